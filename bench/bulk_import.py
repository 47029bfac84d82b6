"""Benchmark: the initial load of a generated catalogue (>= 1M interactions) into an empty database, by
batched UNWIND transactions (`kgrec ingest csv`) and by the offline importer (`kgrec ingest csv --bulk`).

    python bench/bulk_import.py [--kind products] [--items 10000] [--users 40000] [--interactions 1000000]
                                [--social 100000] [--data DIR] [--work DIR] [--co-liked] [--entities]

Each path gets a fresh local server in its own home (free ports; started before the clock, stopped after,
so the two never share the CPUs); each is the real command, timed end to end (the --bulk time includes
writing the CSV files, stopping the server, the import, the restart and the schema). Both parse the same
files first: the parse time is printed apart, and the ratio is given for the whole command and for what
follows the parse. Entity extraction and CO_LIKED are the same work either way (the bulk path runs them
through the ordinary path after the import) and are off unless asked for. Target: bulk >= 5x faster.
This is a measurement, not a test: it prints the numbers and exits 0 either way (2 if the counts differ).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

from kgrec.config import Settings
from kgrec.examples import ExampleSize, generate
from kgrec.graph.embedded import LocalServer

TARGET_RATIO = 5.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_path(name: str, files: dict[str, Path], kind: str, work: Path, flags: list[str]) -> dict:
    """One fresh server, one `kgrec ingest csv` command; its seconds and the report's counts."""
    from kgrec.cli import main

    home = work / name
    shutil.rmtree(home, ignore_errors=True)
    base = Settings.from_env()
    env = {"KGREC_HOME": str(home), "KGREC_BOLT_PORT": str(free_port()), "KGREC_HTTP_PORT": str(free_port()),
           "KGREC_NEO4J_LIB": str(base.neo4j_lib)}
    saved = {k: os.environ.get(k) for k in [*env, "NEO4J_URI"]}
    os.environ.update(env)
    os.environ.pop("NEO4J_URI", None)
    server = LocalServer.from_settings(Settings.from_env())
    try:
        server.start(timeout=300)
        args = ["ingest", "csv", "--catalogue", kind, "--items", str(files["items"]),
                "--interactions", str(files["interactions"]), "--social", str(files["social"]), "--quiet", *flags]
        print(f"--- {name}: kgrec {' '.join(args)}  (load average {os.getloadavg()[0]:.1f})", flush=True)
        first = server.pid()
        cpu0 = _cpu() + _process_cpu(first)  # the first server's start-up, before the clock, is not counted
        start = time.perf_counter()
        code = main(args)
        seconds = time.perf_counter() - start
        now = LocalServer.from_settings(Settings.from_env()).pid()
        cpu = _cpu() + _process_cpu(now) - cpu0  # a server still running is counted here, a stopped one in _cpu
        report = json.loads((home / "ingest" / "last-run.json").read_text())
        return {"seconds": seconds, "cpu": cpu, "code": code, "timings": report["timings"],
                "labels": report["labels"], "types": report["types"], "load": os.getloadavg()[0]}
    finally:
        LocalServer.from_settings(Settings.from_env()).stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _cpu() -> float:
    """CPU seconds of this process and its reaped children (a stopped server, the importer)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _process_cpu(pid: int | None) -> float:
    """CPU seconds of a running process (all its threads), from /proc."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def side_by_side(unwind: dict, bulk: dict) -> bool:
    same = True
    print(f"\n{'counts':<28}{'UNWIND':>12}{'--bulk':>12}")
    for what in ("labels", "types"):
        for key in sorted(set(unwind[what]) | set(bulk[what])):
            a, b = unwind[what].get(key), bulk[what].get(key)
            same &= a == b
            print(f"  {key:<26}{a if a is not None else '-':>12,}{b if b is not None else '-':>12,}"
                  f"{'' if a == b else '   DIFFERENT'}")
    return same


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", default="products", choices=["products", "music"])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--users", type=int, default=40_000)
    ap.add_argument("--interactions", type=int, default=1_000_000)
    ap.add_argument("--social", type=int, default=100_000)
    ap.add_argument("--data", type=Path, default=None, help="the generated CSVs (made there if missing)")
    ap.add_argument("--work", type=Path, default=None, help="where the two servers' homes go (default: a temp dir)")
    ap.add_argument("--co-liked", action="store_true", help="rebuild CO_LIKED in both runs")
    ap.add_argument("--entities", action="store_true", help="run entity extraction in both runs")
    args = ap.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="kgrec-bulk-bench-"))
    data = args.data or work / "data"
    names = {"items": data / "items.csv", "interactions": data / "interactions.csv", "social": data / "social.csv"}
    if not all(p.exists() for p in names.values()):
        t = time.perf_counter()
        size = ExampleSize.scaled(args.items, args.users, args.interactions, args.social)
        names = generate(args.kind, data, size)
        print(f"generated {size} in {time.perf_counter() - t:.0f} s", flush=True)
    rows = {k: sum(1 for _ in p.open("rb")) - 1 for k, p in names.items()}
    print("catalogue: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()), flush=True)
    flags = ([] if args.co_liked else ["--no-co-liked"]) + ([] if args.entities else ["--no-entities"])

    unwind = run_path("unwind", names, args.kind, work, flags)
    bulk = run_path("bulk", names, args.kind, work, [*flags, "--bulk"])
    same = side_by_side(unwind, bulk)

    print(f"\n{'seconds':<28}{'UNWIND':>12}{'--bulk':>12}")
    keys = list(dict.fromkeys([*unwind["timings"], *bulk["timings"]]))
    for key in keys:
        a, b = unwind["timings"].get(key), bulk["timings"].get(key)
        print(f"  [{key}]{'':<{24 - len(key)}}{'-' if a is None else f'{a:.1f}':>12}{'-' if b is None else f'{b:.1f}':>12}")
    print(f"  {'command (wall)':<26}{unwind['seconds']:>12.1f}{bulk['seconds']:>12.1f}")
    print(f"  {'CPU s (python+neo4j+import)':<26}{unwind['cpu']:>12.1f}{bulk['cpu']:>12.1f}")
    print(f"  {'load average at the end':<26}{unwind['load']:>12.1f}{bulk['load']:>12.1f}")
    ratio = unwind["seconds"] / bulk["seconds"]
    a_load = unwind["seconds"] - unwind["timings"]["parse"]
    b_load = bulk["seconds"] - bulk["timings"]["parse"]
    print(f"\nratio UNWIND / --bulk, whole command: {ratio:.1f}x (target >= {TARGET_RATIO:.0f}x: "
          f"{'met' if ratio >= TARGET_RATIO else 'NOT met'})")
    print(f"ratio after the shared parse ({unwind['timings']['parse']:.0f} s / {bulk['timings']['parse']:.0f} s): "
          f"{a_load / b_load:.1f}x ({a_load:.0f} s vs {b_load:.0f} s)")
    print(f"ratio of CPU seconds (what a quiet machine's wall clock would show): {unwind['cpu'] / bulk['cpu']:.1f}x")
    print(f"same counts: {'yes' if same else 'NO'}; exit codes {unwind['code']} / {bulk['code']}")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if same else 2


if __name__ == "__main__":
    sys.exit(main())
