"""Benchmark: the whole of ../shared/data into an empty database, seconds and rows/s per step, and
batched UNWIND writing against a row-at-a-time MERGE baseline on the same sample (a ratio).

    KGREC_HOME=… kgrec neo4j start
    python bench/ingest.py [--source DIR] [--wipe] [--sample 2000]

Targets on the 2-core reference machine: full ingest, entity extraction included, <= 60 s;
batched writing >= 20x the row-at-a-time baseline. Also timed: a delta run (the same source plus one
movie and three ratings), which sends only the new rows (tests/test_ingest.py checks what it sends). This is a measurement, not a test: it prints
the numbers and whether each target was met, and exits 0 either way.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from kgrec.config import Settings
from kgrec.graph import cypher
from kgrec.graph.connection import Graph
from kgrec.ingest.movielens import build_plan
from kgrec.graph import cypher
from kgrec.ingest.plan import STEP_BY_NAME
from kgrec.ingest.rejects import Rejects
from kgrec.ingest.run import format_report, ingest_plan

TARGET_TOTAL_S = 60.0
TARGET_RATIO = 20.0
TARGET_DELTA_S = 60.0  # a delta reads the whole source again but must not cost a full reload


def delta_source(source: Path, into: Path) -> Path:
    """``source`` plus one movie and three ratings: the other folders linked, ml-latest-small copied."""
    for folder in source.iterdir():
        if folder.is_dir() and folder.name != "ml-latest-small":
            (into / folder.name).symlink_to(folder.resolve())
    ml = into / "ml-latest-small"
    ml.mkdir()
    for f in (source / "ml-latest-small").iterdir():
        (ml / f.name).write_bytes(f.read_bytes())
    with open(ml / "movies.csv", "a", encoding="utf-8") as fh:
        fh.write('900001,"A Film Added Later (2031)",Drama|Comedy\n')
    with open(ml / "ratings.csv", "a", encoding="utf-8") as fh:
        fh.write("1,900001,4.5,1900000000\n9001,1,3.0,1900000001\n9001,900001,5.0,1900000002\n")
    return into


def node_count(graph: Graph) -> int:
    return graph.run_text("MATCH (n) RETURN count(n) AS n")[0]["n"]


def delete_sample(graph: Graph, rows: list[dict]) -> None:
    graph.run_text("UNWIND $rows AS row MATCH (:User {id: row.user})-[r:RATED]->(:Item {id: row.item}) DELETE r",
                   {"rows": rows}, write=True)


def timed_writes(graph: Graph, rows: list[dict], batch_size: int) -> float:
    start = time.perf_counter()
    # the MovieLens catalogue's interaction type (bench/ingest.py measures the MovieLens ingest)
    for _ in graph.write_batches(cypher.render(STEP_BY_NAME["rated"].write_query, interaction="RATED"), rows,
                                 batch_size):
        pass
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None, help="default KGREC_DATA_DIR")
    parser.add_argument("--wipe", action="store_true", help="empty the database first (else it must be empty)")
    parser.add_argument("--sample", type=int, default=2000, help="ratings in the baseline comparison")
    args = parser.parse_args()
    base = Settings.from_env()
    source = args.source or base.data_dir
    with tempfile.TemporaryDirectory(prefix="kgrec-bench-") as home, Graph.connect(base) as graph:
        settings = replace(base, home=Path(home))  # no entity cache from earlier runs: spaCy runs in full
        if args.wipe:
            graph.run_statements([cypher.load("wipe")])
        if node_count(graph):
            print("the database is not empty: use --wipe (it deletes every node) or an empty database",
                  file=sys.stderr)
            return 2
        print(f"full ingest of {source} (batch size {settings.batch_size}) …", flush=True)
        start = time.perf_counter()
        with Rejects(Path(home) / "rejects.csv") as rejects:
            plan = build_plan(source, rejects)
            parsed = time.perf_counter() - start
            report = ingest_plan(graph, plan, settings, rejects, progress=False, timings={"parse": parsed})
        total = time.perf_counter() - start
        print(format_report(report))
        print(f"\nFULL INGEST: {total:.1f} s for {sum(s.written for s in report.steps):,} rows written "
              f"(target <= {TARGET_TOTAL_S:.0f} s: {'met' if total <= TARGET_TOTAL_S else 'MISSED'})")

        start = time.perf_counter()
        with Rejects(Path(home) / "rejects2.csv") as rejects:
            again = ingest_plan(graph, build_plan(source, rejects), settings, rejects, progress=False)
        rerun = time.perf_counter() - start
        print(f"RE-RUN (nothing changed): {rerun:.1f} s, {sum(s.written for s in again.steps)} rows written")

        delta = delta_source(source, Path(home) / "delta")
        start = time.perf_counter()
        with Rejects(Path(home) / "rejects3.csv") as rejects:
            changed = ingest_plan(graph, build_plan(delta, rejects), settings, rejects, progress=False)
        took = time.perf_counter() - start
        print(f"DELTA (1 movie, 3 ratings added): {took:.1f} s, {sum(s.written for s in changed.steps)} rows written "
              f"(target <= {TARGET_DELTA_S:.0f} s: {'met' if took <= TARGET_DELTA_S else 'MISSED'})")

        sample = list(plan.rows["rated"].values())[:: max(1, len(plan.rows["rated"]) // args.sample)][: args.sample]
        delete_sample(graph, sample)
        one = timed_writes(graph, sample, 1)  # the baseline: the same MERGE, one row per transaction
        delete_sample(graph, sample)
        batched = timed_writes(graph, sample, settings.batch_size)
        ratio = one / batched
        print(f"\nBASELINE on the same {len(sample):,} RATED rows:")
        print(f"  row-at-a-time MERGE: {one:8.2f} s  {len(sample) / one:10,.0f} rows/s")
        print(f"  batched UNWIND:      {batched:8.2f} s  {len(sample) / batched:10,.0f} rows/s")
        print(f"  ratio: {ratio:.1f}x (target >= {TARGET_RATIO:.0f}x: {'met' if ratio >= TARGET_RATIO else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
