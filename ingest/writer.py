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

from kgrec.catalogue.schema import Catalogue
from kgrec.graph import cypher
from kgrec.graph.connection import Graph
from kgrec.graph.paging import is_paged, pages
from kgrec.ingest.plan import LINK, Plan, Step


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
    """The lists of a ``RETURN collect([…]) AS rows`` query, as a set of tuples; a keyset-paged query
    (graph/paging.py: interactions, a row per interaction) is read page by page."""
    if is_paged(query):
        return {tuple(row) for rec in pages(graph, query, **params) for row in rec["rows"]}
    result = graph.read(query, **params)
    return {tuple(row) for row in result[0]["rows"]} if result else set()


def write_rows(graph: Graph, what: str, write_query: str, read_query: str, fields: tuple[str, ...],
               rows: Iterable[dict], batch_size: int, progress: bool = True, name: str | None = None,
               shape=None, **params: object) -> StepResult:
    """Send the rows the graph does not hold yet (compared field by field with ``read_query``'s lists)
    through ``write_query``, batched; ``shape`` turns a row into what the write query takes."""
    start = time.perf_counter()
    rows = list(rows)
    present = collected(graph, read_query, **params) if rows else set()
    todo = [r for r in rows if tuple(r[f] for f in fields) not in present]
    sent = [shape(r) for r in todo] if shape else todo
    with tqdm(total=len(todo), desc=f"write {what}", unit="row", disable=not progress or None,
              leave=False) as bar:
        for n in graph.write_batches(write_query, sent, batch_size, **params):
            bar.update(n)
    return StepResult(name or what, what, len(rows), len(todo), time.perf_counter() - start)


def write_step(graph: Graph, step: Step, rows: Iterable[dict], batch_size: int, progress: bool = True,
               catalogue: Catalogue | None = None) -> StepResult:
    """One step of STEPS; the steps whose Cypher names catalogue labels or types are rendered with them."""
    if catalogue is None or step.name not in _RENDERED:
        return write_rows(graph, step.what, step.write_query, step.read_query, step.fields, rows, batch_size,
                          progress, step.name)
    return _RENDERED[step.name](graph, step, list(rows), batch_size, progress, catalogue)


def _write_item(graph: Graph, step: Step, rows: list[dict], batch_size: int, progress: bool,
                catalogue: Catalogue) -> StepResult:
    props = [f for f in step.fields if f not in ("id", "title", "text")]
    labels = tuple(catalogue.labels_of_item())

    def shape(row: dict) -> dict:
        return {"id": row["id"], "title": row["title"], "text": row["text"], "props": {p: row[p] for p in props}}

    return write_rows(graph, ":" + ":".join(labels), cypher.render("ingest/item", labels=labels),
                      step.read_query, step.fields, rows, batch_size, progress, step.name, shape, props=props)


def _write_rated(graph: Graph, step: Step, rows: list[dict], batch_size: int, progress: bool,
                 catalogue: Catalogue) -> StepResult:
    rel = catalogue.signals.relationship
    return write_rows(graph, rel, cypher.render("ingest/rated", interaction=rel),
                      cypher.render("ingest/existing_rated", interaction=rel), step.fields, rows, batch_size,
                      progress, step.name)


def _write_links(graph: Graph, step: Step, rows: list[dict], batch_size: int, progress: bool,
                 catalogue: Catalogue) -> StepResult:
    """Attribute links, one rendered statement pair per attribute of the schema (one result for all)."""
    start, planned, written = time.perf_counter(), 0, 0
    for attribute in catalogue.attributes:
        mine = [r for r in rows if r["attribute"] == attribute.name]
        if not mine:
            continue
        side = "out" if attribute.outgoing else "in"
        ids = {"label": attribute.label, "key": attribute.key, "rel": attribute.relationship}
        result = write_rows(graph, attribute.relationship, cypher.render(f"ingest/link_{side}", **ids),
                            cypher.render(f"ingest/existing_link_{side}", **ids), ("item", "key", "name", "order"),
                            mine, batch_size, progress)
        planned, written = planned + result.planned, written + result.written
    return StepResult(step.name, step.what, planned, written, time.perf_counter() - start)


def _write_entity_links(graph: Graph, step: Step, rows: list[dict], batch_size: int, progress: bool,
                        catalogue: Catalogue) -> StepResult:
    start = time.perf_counter()
    params = {"labels": catalogue.linkable_labels, "id_labels": catalogue.id_labels}
    present = collected(graph, step.read_query, **params)
    todo = [r for r in rows if tuple(r[f] for f in step.fields) not in present]
    for kind in sorted({r["kind"] for r in todo}):
        query = cypher.render("ingest/entity_link", label=kind, key=catalogue.key_by_label[kind])
        for _ in graph.write_batches(query, [r for r in todo if r["kind"] == kind], batch_size):
            pass
    return StepResult(step.name, step.what, len(rows), len(todo), time.perf_counter() - start)


def _write_entities(graph: Graph, step: Step, rows: list[dict], batch_size: int, progress: bool,
                    catalogue: Catalogue) -> StepResult:
    return write_rows(graph, step.what, step.write_query, step.read_query, step.fields, rows, batch_size,
                      progress, step.name, labels=catalogue.linkable_labels)


_RENDERED = {"item": _write_item, "rated": _write_rated, LINK: _write_links, "entity_link": _write_entity_links,
             "entity": _write_entities}


def write_plan(graph: Graph, plan: Plan, batch_size: int, steps: Iterable[str] | None = None,
               progress: bool = True) -> list[StepResult]:
    """Write the plan's steps (all, or the named ones) in dependency order."""
    wanted = set(steps) if steps is not None else None
    results = []
    for step in plan.steps:
        if wanted is not None and step.name not in wanted:
            continue
        if plan.rows[step.name]:
            results.append(write_step(graph, step, plan.rows[step.name].values(), batch_size, progress,
                                      plan.catalogue))
    return results
