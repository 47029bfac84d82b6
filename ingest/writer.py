"""Writing a plan: per step, read back what the graph holds, send only new or changed rows in
batched ``UNWIND … MERGE`` transactions (``execute_write``, retried on transient errors).

Because every write is a MERGE keyed like the plan, a run that died half-way (or a re-run) just
completes the graph: the rows already committed read back as present and are not sent again.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from tqdm import tqdm

from kgrec.graph.connection import Graph
from kgrec.ingest.plan import STEPS, Plan, Step


@dataclass
class StepResult:
    step: str
    what: str
    planned: int  # distinct rows the sources give
    written: int  # rows sent (new or changed)
    seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0


def existing_rows(graph: Graph, step: Step) -> set[tuple]:
    """The step's rows already in the graph, as value tuples in ``step.fields`` order."""
    return collected(graph, step.read_query)


def collected(graph: Graph, query: str, **params: object) -> set[tuple]:
    """The lists of a ``RETURN collect([…]) AS rows`` query, as a set of tuples."""
    result = graph.read(query, **params)
    return {tuple(row) for row in result[0]["rows"]} if result else set()


def write_step(graph: Graph, step: Step, rows: Iterable[dict], batch_size: int, progress: bool = True) -> StepResult:
    start = time.perf_counter()
    rows = list(rows)
    present = existing_rows(graph, step) if rows else set()
    todo = [r for r in rows if tuple(r[f] for f in step.fields) not in present]
    with tqdm(total=len(todo), desc=f"write {step.what}", unit="row", disable=not progress or None,
              leave=False) as bar:
        for n in graph.write_batches(step.write_query, todo, batch_size):
            bar.update(n)
    return StepResult(step.name, step.what, len(rows), len(todo), time.perf_counter() - start)


def write_plan(graph: Graph, plan: Plan, batch_size: int, steps: Iterable[str] | None = None,
               progress: bool = True) -> list[StepResult]:
    """Write the plan's steps (all, or the named ones) in dependency order."""
    wanted = set(steps) if steps is not None else None
    results = []
    for step in STEPS:
        if wanted is not None and step.name not in wanted:
            continue
        if plan.rows[step.name]:
            results.append(write_step(graph, step, plan.rows[step.name].values(), batch_size, progress))
    return results
