"""Serving under load, with a maintained load tool (locust, headless), every scenario in one run.

    .venv/bin/python bench/api_load.py [--workers 2] [--duration 60] [--rate 100] [--cached-rate 1000]

Against the active model of the configured Neo4j (run `make demo` or `kgrec train` first), it starts
`kgrec serve --workers N` itself on a free loopback port and runs, one after another:

1. **uncached**: KGREC_CACHE_SECONDS=0, random known users, k=10 with 3 explanation paths, at ``--rate``;
2. **sessions**: the same server; new users post a few interactions and then read, one request in five posts
   an interaction with the item ranked first and the next read must reflect it (bench/locustfile.py);
3. **cypher-cf**: the Neo4j recommendations example's collaborative-filtering query (the baseline endpoint),
   on the same server, at the same rate;
4. **cached**: the server restarted with the cache on, every sampled user's answer computed once, then at
   ``--cached-rate``.

Load: locust users at ``--per-user`` requests/s each (constant throughput), ``rate / per-user`` of them: an
open loop as long as answers take well under a second. Printed per scenario: requests/s achieved, p50 / p95 /
p99 (locust's, in ms), failures, and where the serving time went (the server's per-stage timings from
/metrics: mean ms per request of each stage, all workers added up), with the issue's targets. The session
users are erased through the API at the end. The load goes to loopback only.
"""
from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
KGREC = Path(sys.executable).with_name("kgrec")
STAGE = re.compile(r'^kgrec_serve_stage_duration_seconds_(sum|count)\{stage="([^"]+)"\} ([0-9.e+-]+)$')
#: session users get ids of their own per run (an erased id is refused for good: it cannot be reused)
SESSION_FIRST_ID = 10**12 + int(time.time()) * 1000
#: (p99 ms, minimum share of the offered rate) the issue asks of each scenario
TARGETS = {"uncached": (50.0, 0.97), "sessions": (60.0, 0.97), "cached": (20.0, 0.97)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, method: str = "GET", timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"X-API-Key": os.environ["KGREC_API_KEY"]} if os.environ.get("KGREC_API_KEY") else {}
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def sample(users: int, seed: int) -> tuple[list[int], list[int], str]:
    """Users with interactions, popular items (what session users start from) and the catalogue's interaction
    body (a rating, or its strongest positive event)."""
    from kgrec.catalogue.store import active
    from kgrec.config import Settings
    from kgrec.graph.connection import Graph

    graph = Graph.connect(Settings.from_env())
    try:
        catalogue = active(graph)
        rel = catalogue.signals.relationship
        ids = [r["id"] for r in graph.run_text(
            f"MATCH (u:User) WHERE EXISTS {{ (u)-[:`{rel}`]->(:Item) }} RETURN u.id AS id ORDER BY id", {},
            write=False)]
        items = [r["id"] for r in graph.run_text(
            f"MATCH (i:Item)<-[r:`{rel}`]-() WITH i, count(r) AS n ORDER BY n DESC LIMIT 300 RETURN i.id AS id", {},
            write=False)]
    finally:
        graph.close()
    s = catalogue.signals
    if s.rating is not None:
        body: dict[str, object] = {"rating": float(s.rating.max)}
    else:
        positive = [e for e in s.events.values() if not e.negative]
        body = {"event": max(positive, key=lambda e: e.strength).name}
    rng = random.Random(seed)
    return rng.sample(ids, min(users, len(ids))), items, json.dumps(body)


class Server:
    """`kgrec serve --workers N` on a free loopback port, with the given cache setting."""

    def __init__(self, workers: int, cache_seconds: float):
        self.port = free_port()
        env = {**os.environ, "KGREC_CACHE_SECONDS": str(cache_seconds)}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.log = tempfile.NamedTemporaryFile(prefix="kgrec-serve-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([str(KGREC), "serve", "--workers", str(workers), "--port", str(self.port)],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"kgrec serve exited: see {self.log.name}")
            try:
                status, body = get(self.port, "/ready", timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"kgrec serve not ready in 180 s: see {self.log.name}")

    def stages(self) -> dict[str, tuple[float, float]]:
        """stage -> (seconds, count) so far, every worker added up."""
        out: dict[str, list[float]] = {}
        try:
            text = get(self.port, "/metrics", timeout=180)[1].decode()
        except OSError:  # still working off a backlog (an overloaded scenario): no stage figures for it
            return {}
        for line in text.splitlines():
            m = STAGE.match(line)
            if m:
                out.setdefault(m.group(2), [0.0, 0.0])[0 if m.group(1) == "sum" else 1] += float(m.group(3))
        return {k: (v[0], v[1]) for k, v in out.items()}

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


def locust(port: int, user_class: str, rate: float, per_user: float, duration: float, env: dict[str, str]) -> dict:
    """One headless locust run; its summary row (requests, failures, req/s, percentiles in ms)."""
    users = max(1, round(rate / per_user))
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "run"
        cmd = [str(Path(sys.executable).with_name("locust")), "-f", str(HERE / "locustfile.py"), user_class,
               "--headless", "--host", f"http://127.0.0.1:{port}", "-u", str(users), "-r", str(max(users / 2, 1)),
               "-t", f"{duration:.0f}s", "--reset-stats", "--only-summary", "--csv", str(prefix),
               "--loglevel", "WARNING", "--stop-timeout", "10"]
        run_env = {**os.environ, **env, "KGREC_BENCH_RATE_PER_USER": str(per_user)}
        done = subprocess.run(cmd, env=run_env, capture_output=True, text=True)
        rows = list(csv.DictReader(open(f"{prefix}_stats.csv"))) if Path(f"{prefix}_stats.csv").exists() else []
        if not rows:
            raise SystemExit(f"locust failed ({done.returncode}): {done.stderr[-2000:]}")
        failures = Path(f"{prefix}_failures.csv").read_text() if Path(f"{prefix}_failures.csv").exists() else ""
    total = next(r for r in rows if r["Name"] == "Aggregated")
    return {"rows": rows, "total": total, "users": users, "failures": failures}


def stage_means(before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]],
                requests: int) -> dict[str, float]:
    """Mean ms per request spent in each stage between two scrapes."""
    if not after or not before:
        return {}
    return {name: 1000 * (after[name][0] - before.get(name, (0.0, 0.0))[0]) / max(requests, 1)
            for name in sorted(after) if after[name][1] > before.get(name, (0.0, 0.0))[1]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workers", type=int, default=2, help="kgrec serve --workers (default 2)")
    p.add_argument("--duration", type=float, default=60.0, help="seconds per scenario (default 60)")
    p.add_argument("--rate", type=float, default=100.0, help="requests/s offered uncached (default 100)")
    p.add_argument("--cached-rate", type=float, default=1000.0, help="requests/s offered cached (default 1000)")
    p.add_argument("--per-user", type=float, default=1.0, help="requests/s of each locust user (default 1)")
    p.add_argument("--users", type=int, default=300, help="known users to sample (default 300)")
    p.add_argument("--scenarios", nargs="+", default=["uncached", "sessions", "cypher-cf", "cached"],
                   choices=["uncached", "sessions", "cypher-cf", "cached"])
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()

    users, items, interaction = sample(args.users, args.seed)
    env = {"KGREC_BENCH_USERS": json.dumps(users), "KGREC_BENCH_ITEMS": json.dumps(items),
           "KGREC_BENCH_INTERACTION": interaction, "KGREC_BENCH_SESSION_FIRST_ID": str(SESSION_FIRST_ID)}
    print(f"{len(users)} users, kgrec serve --workers {args.workers}, {args.duration:.0f} s per scenario, "
          f"{os.cpu_count()} cores (Neo4j, server and locust on this machine)")
    header = f"{'scenario':<30}{'offered':>9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'failed':>8}  target"
    results: list[str] = []
    stage_rows: list[tuple[str, dict[str, float]]] = []
    session_users = 0

    def scenario(server: Server, name: str, user_class: str, rate: float) -> None:
        nonlocal session_users
        before = server.stages()
        run = locust(server.port, user_class, rate, args.per_user, args.duration, env)
        after = server.stages()
        t = run["total"]
        requests, failed = int(t["Request Count"]), int(t["Failure Count"])
        rps, p99 = float(t["Requests/s"]), float(t["99%"])
        verdict = ""
        if name in TARGETS:
            limit, share = TARGETS[name]
            ok = p99 <= limit and rps >= share * rate and failed == 0
            verdict = f"p99 <= {limit:g} ms at {rate:g}/s, 0 failed: {'met' if ok else 'NOT met'}"
        results.append(f"{name:<30}{rate:>9g}{rps:>9.1f}{float(t['50%']):>9.0f}{float(t['95%']):>9.0f}{p99:>9.0f}"
                       f"{failed:>8}  {verdict}")
        for row in run["rows"]:
            if row["Name"] != "Aggregated" and len(run["rows"]) > 2:
                results.append(f"  {row['Type'] + ' ' + row['Name']:<28}{'':>9}{float(row['Requests/s']):>9.1f}"
                               f"{float(row['50%']):>9.0f}{float(row['95%']):>9.0f}{float(row['99%']):>9.0f}"
                               f"{int(row['Failure Count']):>8}")
        if run["failures"].count("\n") > 1:
            results.append("  failures: " + " | ".join(run["failures"].splitlines()[1:4]))
        stage_rows.append((name, stage_means(before, after, requests)))
        if user_class == "Session":
            session_users += run["users"]
        print(results[-1] if len(results) == 1 else "\n".join(results[-1:]), flush=True)

    uncached = [s for s in args.scenarios if s != "cached"]
    if uncached:
        server = Server(args.workers, 0)
        try:
            for user in users[:20]:  # warm-up: code paths, Neo4j's page cache and query plans
                get(server.port, f"/users/{user}/recommendations?k=10&paths=3")
                get(server.port, f"/users/{user}/recommendations/cypher-cf?k=10")
            for name in uncached:
                user_class = {"uncached": "Recommend", "sessions": "Session", "cypher-cf": "CypherCF"}[name]
                scenario(server, name, user_class, args.rate)
        finally:
            server.stop()
    if "cached" in args.scenarios:
        server = Server(args.workers, 3600)
        try:
            for _ in range(args.workers * 2):  # every worker process holds its own cache: fill each
                for user in users:
                    get(server.port, f"/users/{user}/recommendations?k=10&paths=3")
            scenario(server, "cached", "Recommend", args.cached_rate)
        finally:
            server.stop()
    if session_users:
        server = Server(1, 0)
        try:
            erased = sum(get(server.port, f"/users/{u}", "DELETE")[0] == 200
                         for u in range(SESSION_FIRST_ID, SESSION_FIRST_ID + session_users))
        finally:
            server.stop()
        print(f"(erased the {erased} session users)")

    print()
    print(header)
    print("-" * len(header))
    print("\n".join(results))
    print()
    names = sorted({s for _, means in stage_rows for s in means})
    print(f"{'where the time went (ms/request)':<34}" + "".join(f"{n:>14}" for n in names))
    for scenario_name, means in stage_rows:
        print(f"{scenario_name:<34}" + "".join(f"{means.get(n, 0.0):>14.2f}" for n in names))


if __name__ == "__main__":
    main()
