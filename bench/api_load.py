"""Load on the running API: recommendations with paths vs Neo4j's example collaborative-filtering query.

Run against a server already serving the demo data (`make demo`, or `kgrec serve`):

    .venv/bin/python bench/api_load.py --url http://127.0.0.1:8000 --duration 60 --concurrency 8 32

For each concurrency it loads, for the same users and in the same run, (a) ``/users/{id}/recommendations``
(k=10, 3 paths each) and (b) ``/users/{id}/recommendations/cypher-cf`` (k=10, the hand-written Cypher
query alone), and prints requests/s, p50/p95/p99 latency and errors side by side, with ratios.
Those runs are closed-loop (each worker sends its next request when the last one is answered: the
most the server does). With ``--rate R`` (default 100) (a) is also run open-loop at R requests/s spread
over the workers, with latency counted from each request's scheduled time (so a server falling behind
is not hidden): the "p99 at >= R requests/s" question.
The server's recommendation cache (KGREC_CACHE_SECONDS, see the README) answers repeated requests while
nothing they depend on has changed; the share of requests it answered in each run is printed (from
``/ready``). Start the server with KGREC_CACHE_SECONDS=0 to measure every request computed.
The load is bounded in time and count and goes to the given URL only (loopback by default).
"""
from __future__ import annotations

import argparse
import http.client
import json
import random
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

MAX_REQUESTS_PER_RUN = 200_000


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(q * len(data)))] * 1000

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def load(url: str, paths: list[str], concurrency: int, duration: float, headers: dict[str, str],
         rate: float | None = None) -> Result:
    parsed = urllib.parse.urlsplit(url)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("refusing to load a non-loopback address")
    result = Result()
    lock = threading.Lock()
    deadline = time.monotonic() + duration
    budget = [MAX_REQUESTS_PER_RUN]

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port or 80, timeout=30)
        local_lat: list[float] = []
        local_err = 0
        local_status: dict[int, int] = {}
        # open loop: this worker's share of ``rate``, its first send staggered among the workers
        interval = concurrency / rate if rate else 0.0
        scheduled = time.perf_counter() + interval * seed / concurrency
        while time.monotonic() < deadline:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            path = rng.choice(paths)
            if rate:
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                start = scheduled  # a late send counts its wait: no coordinated omission
                scheduled += interval
            else:
                start = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port or 80, timeout=30)
                status = 599
            elapsed = time.perf_counter() - start
            local_status[status] = local_status.get(status, 0) + 1
            if status == 200:
                local_lat.append(elapsed)
            else:
                local_err += 1
        conn.close()
        with lock:
            result.latencies.extend(local_lat)
            result.errors += local_err
            for k, v in local_status.items():
                result.statuses[k] = result.statuses.get(k, 0) + v

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.monotonic() - start
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per run (default 60)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--users", type=int, default=200, help="distinct users to sample (default 200)")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--settle", type=float, default=15.0,
                        help="seconds of quiet after each concurrency's baseline run (default 15)")
    parser.add_argument("--rate", type=float, default=100.0,
                        help="requests/s of the open-loop run (default 100; 0 = no open-loop run)")
    args = parser.parse_args()
    headers = {"X-API-Key": args.api_key} if args.api_key else {}

    parsed = urllib.parse.urlsplit(args.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port or 80, timeout=30)
    conn.request("GET", "/ready", headers=headers)
    ready = conn.getresponse()
    body = json.loads(ready.read() or b"{}")
    if ready.status != 200:
        raise SystemExit(f"the API is not ready: {body}")
    user_ids = list(range(1, 611))
    rng = random.Random(args.seed)
    users = rng.sample(user_ids, min(args.users, len(user_ids)))
    ours = [f"/users/{u}/recommendations?k=10&paths=3" for u in users]
    baseline = [f"/users/{u}/recommendations/cypher-cf?k=10" for u in users]
    for path in (ours[0], baseline[0]):  # warm-up and sanity check
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status}: {payload[:300]!r}")
    conn.close()

    print(f"model version {body.get('model_version')}; {len(users)} users; {args.duration:.0f} s per run")
    header = (f"{'endpoint':<40}{'conc':>5}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
              f"{'cached':>8}")
    print(header)
    print("-" * len(header))

    def run(name: str, paths: list[str], concurrency: int, rate: float | None = None) -> Result:
        before = cache_stats(args.url, headers)
        r = load(args.url, paths, concurrency, args.duration, headers, rate)
        after = cache_stats(args.url, headers)
        served = (after["hits"] + after["misses"]) - (before["hits"] + before["misses"])
        cached = f"{(after['hits'] - before['hits']) / served:.0%}" if served > 0 else "-"
        print(f"{name:<40}{concurrency:>5}{r.rps:>9.1f}{r.pct(0.50):>9.1f}{r.pct(0.95):>9.1f}"
              f"{r.pct(0.99):>9.1f}{r.errors:>8}{cached:>8}")
        return r

    for concurrency in args.concurrency:
        # the baseline last: its queries keep Neo4j (and its heap) busy for a while after they end
        a = run("recommendations k=10, 3 paths", ours, concurrency)
        p = run(f"recommendations at {args.rate:g} req/s (open loop)", ours, concurrency, args.rate) \
            if args.rate else None
        b = run("cypher-cf (Neo4j example) k=10", baseline, concurrency)
        print(f"{'ratio ours / baseline (closed loop)':<40}{concurrency:>5}{a.rps / max(b.rps, 1e-9):>8.2f}x"
              f"{a.pct(0.5) / b.pct(0.5):>8.2f}x{a.pct(0.95) / b.pct(0.95):>8.2f}x{a.pct(0.99) / b.pct(0.99):>8.2f}x")
        if p is not None:
            target = "met" if p.pct(0.99) <= 100 and p.rps >= 0.97 * args.rate and p.errors == 0 else "NOT met"
            print(f"  open loop: p99 <= 100 ms at {args.rate:g} req/s, zero errors: {target}")
        target = "met" if a.pct(0.99) <= 100 and a.rps >= 100 and a.errors == 0 else "NOT met"
        print(f"  closed loop: p99 <= 100 ms while >= 100 req/s, zero errors: {target}")
        time.sleep(args.settle)


def cache_stats(url: str, headers: dict[str, str]) -> dict[str, int]:
    """The server's recommendation-cache counters (from /ready); zeros when it reports none."""
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port or 80, timeout=30)
    try:
        conn.request("GET", "/ready", headers=headers)
        body = json.loads(conn.getresponse().read() or b"{}")
    finally:
        conn.close()
    return {"hits": 0, "misses": 0, **(body.get("cache") or {})}


if __name__ == "__main__":
    main()
