"""One ingest run end to end: schema, plan rows, entities, CO_LIKED, counts and the summary."""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kgrec.config import Settings
from kgrec.graph.connection import Graph
from kgrec.graph.schema import apply_schema
from kgrec.ingest.colike import rebuild_co_liked
from kgrec.catalogue.schema import Catalogue
from kgrec.catalogue.store import store as store_catalogue
from kgrec.ingest.entities import EntityKinds, Extraction, Gazetteer, extract, extraction_texts
from kgrec.ingest.plan import ENTITY_STEPS, STEP_BY_NAME, Plan
from kgrec.ingest.rejects import Rejects
from kgrec.ingest.writer import StepResult, collected, write_plan
from kgrec.metrics import record_ingest
from kgrec.privacy.feeds import drop_erased, scrub_rejects
from kgrec.privacy.tombstones import Tombstones

#: exit code of an ingest whose rejects exceed KGREC_MAX_REJECT_RATE (the good rows are loaded anyway)
EXIT_TOO_MANY_REJECTS = 3


@dataclass
class IngestReport:
    steps: list[StepResult] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # phase -> seconds
    rows_read: dict[str, int] = field(default_factory=dict)
    rejects: dict[str, int] = field(default_factory=dict)  # per file
    reject_reasons: dict[str, int] = field(default_factory=dict)
    rejects_file: str | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    pipeline: str | None = None
    entity_docs: int = 0
    entity_docs_run: int = 0
    stale_mentions: int = 0  # MENTIONS deleted because the latest extraction no longer finds them
    co_liked: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    types: dict[str, int] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    max_reject_rate: float = 0.0

    @property
    def reject_total(self) -> int:
        return sum(self.rejects.values())

    @property
    def read_total(self) -> int:
        return sum(self.rows_read.values())

    @property
    def too_many_rejects(self) -> bool:
        return self.reject_total > self.max_reject_rate * max(self.read_total, 1)

    @property
    def exit_code(self) -> int:
        return EXIT_TOO_MANY_REJECTS if self.too_many_rejects else 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["steps"] = [asdict(s) for s in self.steps]
        data["exit_code"] = self.exit_code
        return data


def ingest_plan(graph: Graph, plan: Plan, settings: Settings, rejects: Rejects, *, batch_size: int | None = None,
                entities: bool = True, co_liked: bool = True, progress: bool = True,
                timings: dict[str, float] | None = None, loaded: list[StepResult] | None = None) -> IngestReport:
    """Write ``plan`` into the graph (idempotent; only new or changed rows are sent). ``loaded``: the base
    steps a bulk import has just written into the (then empty) database (ingest/bulk.py), not sent again."""
    try:
        report = _ingest_plan(graph, plan, settings, rejects, batch_size=batch_size, entities=entities,
                              co_liked=co_liked, progress=progress, timings=timings, loaded=loaded)
    except BaseException:
        # whatever was written before the failure changed the graph too: serving processes must not keep
        # answering from what they cached (best effort: the database may be what failed)
        graph.write_once("ingest/bump_revision")
        record_ingest(graph, plan.catalogue.name, "failed")  # for /metrics
        raise
    graph.write("ingest/bump_revision")  # serving processes drop their cached recommendations
    record_ingest(graph, plan.catalogue.name, "too_many_rejects" if report.too_many_rejects else "ok")
    return report


def _ingest_plan(graph: Graph, plan: Plan, settings: Settings, rejects: Rejects, *, batch_size: int | None,
                 entities: bool, co_liked: bool, progress: bool, timings: dict[str, float] | None,
                 loaded: list[StepResult] | None = None) -> IngestReport:
    batch_size = batch_size or settings.batch_size
    report = IngestReport(max_reject_rate=settings.max_reject_rate, timings=dict(timings or {}))
    t = time.perf_counter()
    # refuses another catalogue than the graph's; its constraints. A bulk import was checked empty before
    # it replaced the database: its items are this catalogue's
    store_catalogue(graph, plan.catalogue, replace=loaded is not None)
    apply_schema(graph)
    report.timings["schema"] = time.perf_counter() - t
    # erased users' rows never load, whichever adapter planned them (counted in report.skipped)
    tombstones = Tombstones.load(graph, settings)
    drop_erased(plan, tombstones)

    t = time.perf_counter()
    base_steps = [s.name for s in plan.steps if s.name not in ENTITY_STEPS]
    if loaded is None:
        report.steps += write_plan(graph, plan, batch_size, base_steps, progress)
        report.timings["write"] = time.perf_counter() - t
    else:
        report.steps += loaded

    texts = extraction_texts(plan.texts, plan.tag_texts, settings.entity_min_tag_users)
    if (entities and texts) or plan.entity_links:
        t = time.perf_counter()
        gazetteer = graph_gazetteer(graph, plan.catalogue)
        found = Extraction.empty()
        if entities and texts:
            found = extract(texts, gazetteer, settings.spacy_model, progress=progress,
                            cache=settings.home / "ingest" / "entity-cache.json")
            report.pipeline, report.entity_docs, report.entity_docs_run = found.pipeline, found.docs, found.processed
        found.add_given(plan.entity_links, gazetteer)
        for eid, (name, label) in found.new.items():
            plan.add("entity", id=eid, name=name, label=label)
        for eid, (kind, key, label) in found.linked.items():
            plan.add("entity_link", kind=kind, key=key, id=eid, label=label)
        for (item, eid), count in found.mentions.items():
            plan.add("mentions", item=item, entity=eid, count=count)
        report.timings["entities"] = time.perf_counter() - t
        t2 = time.perf_counter()
        report.steps += write_plan(graph, plan, batch_size, ENTITY_STEPS, progress)
        report.stale_mentions = drop_stale_mentions(graph, plan, batch_size)
        report.timings["write entities"] = time.perf_counter() - t2

    if co_liked:
        result = rebuild_co_liked(graph, settings, plan.catalogue)
        report.co_liked = asdict(result)
        report.timings["co_liked"] = result.seconds

    t = time.perf_counter()
    report.labels = {r["label"]: r["count"] for r in graph.read("ingest/count_labels")}
    report.types = {r["type"]: r["count"] for r in graph.read("ingest/count_types")}
    report.timings["count"] = time.perf_counter() - t
    report.rows_read = dict(plan.rows_read)
    report.rejects = dict(rejects.by_file)
    report.reject_reasons = dict(rejects.by_reason)
    report.rejects_file = str(rejects.path) if rejects.total else None
    if rejects.total and tombstones.hashes:  # a rejected row of an erased user keeps its raw text: drop it
        rejects.close()
        scrub_rejects(rejects.path, tombstones.erased)
    report.skipped = dict(plan.skipped)
    report.notes = dict(plan.notes)
    return report


def graph_gazetteer(graph: Graph, cat: Catalogue) -> Gazetteer:
    """The names entity extraction links to: the graph's nodes of the catalogue's linkable labels."""
    return Gazetteer.from_rows(({"kind": k, "key": key, "name": n} for k, key, n in collected(
        graph, "ingest/entity_names", labels=cat.linkable_labels, id_labels=cat.id_labels)), EntityKinds.of(cat))


def drop_stale_mentions(graph: Graph, plan: Plan, batch_size: int) -> int:
    """The extraction is the truth for the items it covered: their MENTIONS it no longer finds (text or
    rules changed) are deleted, then entities nothing mentions. Other items' MENTIONS are left alone."""
    covered = set(plan.texts) | set(plan.tag_texts) | {item for item, *_ in plan.entity_links}
    present = collected(graph, STEP_BY_NAME["mentions"].read_query)
    stale = [{"item": item, "entity": eid} for item, eid, _ in present
             if item in covered and (item, eid) not in plan.rows["mentions"]]
    deleted = sum(graph.write_batches("ingest/delete_mentions", stale, batch_size))
    if deleted:
        graph.write("ingest/delete_orphan_entities", labels=plan.catalogue.linkable_labels)
    return deleted


def save_report(report: IngestReport, home: Path) -> Path:
    """Keep the last run's report (counts, timings, pipeline, rejects) as JSON under the home."""
    path = home / "ingest" / "last-run.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_json(), indent=2, default=str) + "\n")
    return path


def format_report(report: IngestReport) -> str:
    lines = ["step                       planned   written   seconds     rows/s"]
    for s in report.steps:
        lines.append(f"  {s.what:<24}{s.planned:>9,}{s.written:>10,}{s.seconds:>10.2f}{s.rows_per_s:>11,.0f}")
    for name, seconds in report.timings.items():
        lines.append(f"  [{name}] {seconds:.2f} s")
    if report.pipeline:
        lines.append(f"entities: {report.pipeline} over {report.entity_docs:,} item texts "
                     f"({report.entity_docs_run:,} processed, the others unchanged since the last run); "
                     f"{report.stale_mentions:,} stale MENTIONS deleted")
    if report.co_liked:
        c = report.co_liked
        lines.append(f"CO_LIKED: {c['pairs']:,} pairs ({c['written']:,} written, {c['deleted']:,} deleted)")
    lines.append("nodes per label: " + ", ".join(f"{k} {v:,}" for k, v in report.labels.items()))
    lines.append("relationships per type: " + ", ".join(f"{k} {v:,}" for k, v in report.types.items()))
    lines.append(f"rows read: {report.read_total:,} from {len(report.rows_read)} files")
    for reason, n in sorted(report.skipped.items()):
        lines.append(f"  skipped by rule: {n:,} {reason}")
    if report.reject_total:
        lines.append(f"REJECTED: {report.reject_total:,} rows -> {report.rejects_file}")
        for f, n in sorted(report.rejects.items()):
            lines.append(f"  {f}: {n:,}")
        for reason, n in sorted(report.reject_reasons.items()):
            lines.append(f"  reason {reason}: {n:,}")
    else:
        lines.append("rejected: 0 rows")
    if report.too_many_rejects:
        lines.append(f"rejects exceed {report.max_reject_rate:.2%} of rows read (KGREC_MAX_REJECT_RATE): "
                     f"exit code {EXIT_TOO_MANY_REJECTS}")
    return "\n".join(lines)
