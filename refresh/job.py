"""One refresh run: lock, ingest what is new, retrain, evaluate, publish only if not worse, record it.

The active model version keeps serving throughout: a candidate is trained into its own version folder and
becomes active only by the final atomic switch. A run killed at any point leaves the active version as it
was; the next run marks the dead run failed and starts over.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kgrec.config import Settings
from kgrec.graph.connection import Graph
from kgrec.refresh.lock import RefreshLock

#: a candidate is published unless its test NDCG@10 is below the active version's by more than this
DEFAULT_TOLERANCE = 0.005
SOURCE_KINDS = ("movielens", "csv")


class RefreshError(RuntimeError):
    """A refresh that cannot run (bad source, no database); the message says why."""


@dataclass(frozen=True)
class Source:
    """A configured data source: ``movielens:DIR`` (a folder like ../shared/data) or ``csv:DIR`` (a folder
    with any of items.csv, interactions.csv, links.csv)."""

    kind: str
    path: Path

    @classmethod
    def parse(cls, text: str) -> "Source":
        kind, sep, path = text.partition(":")
        if not sep or kind not in SOURCE_KINDS or not path:
            raise RefreshError(f"a source is KIND:PATH with KIND one of {', '.join(SOURCE_KINDS)}; got {text!r}")
        return cls(kind, Path(path).expanduser())


def configured_sources(settings: Settings, given: list[str] | None = None) -> list[Source]:
    """``given`` (CLI; an empty list means no file source: only what is already in the graph, e.g. the
    interactions posted through the API), else KGREC_REFRESH_SOURCES (comma-separated), else the
    MovieLens data folder when it exists."""
    if given is not None:
        return [Source.parse(s) for s in given]
    env = settings.extra.get("KGREC_REFRESH_SOURCES", "")
    if env.strip():
        return [Source.parse(s.strip()) for s in env.split(",") if s.strip()]
    return [Source("movielens", settings.data_dir)] if settings.data_dir.is_dir() else []


@dataclass
class RefreshOutcome:
    run_id: str
    status: str  # published | kept | failed
    version: str | None = None
    reason: str = ""
    counts: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run_id, "status": self.status, "version": self.version, "reason": self.reason,
                "counts": self.counts, "metrics": self.metrics}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _log(message: str) -> None:
    print(f"[refresh {time.strftime('%H:%M:%S')}] {message}", flush=True)


def ingest_sources(graph: Graph, settings: Settings, sources: list[Source], progress: bool) -> dict[str, Any]:
    """Fold each source into the graph; the ingest writes only new or changed rows (and re-extracts
    entities only for items whose text changed)."""
    from kgrec.catalogue.store import active as active_catalogue
    from kgrec.ingest.csv_source import build_csv_plan
    from kgrec.ingest.movielens import build_plan
    from kgrec.ingest.rejects import Rejects
    from kgrec.ingest.run import ingest_plan

    counts: dict[str, Any] = {}
    for source in sources:
        if not source.path.is_dir():
            raise RefreshError(f"source {source.kind}:{source.path} is not a folder")
        rejects_file = settings.rejects_dir / f"refresh-{time.strftime('%Y%m%d-%H%M%S')}-{source.kind}.csv"
        with Rejects(rejects_file) as rejects:
            if source.kind == "movielens":
                plan = build_plan(source.path, rejects)
            else:
                files = {name: source.path / f"{name}.csv" for name in ("items", "interactions", "social", "links")}
                present = {k: v for k, v in files.items() if v.exists()}
                if not present:
                    raise RefreshError(f"csv source {source.path} has none of items.csv, interactions.csv, "
                                       "social.csv, links.csv")
                plan = build_csv_plan(graph, rejects, catalogue=active_catalogue(graph), **present)
            report = ingest_plan(graph, plan, settings, rejects, progress=progress)
        written = {s.step: s.written for s in report.steps if s.written}
        counts[f"{source.kind}:{source.path}"] = {"written": written, "skipped": dict(report.skipped),
                                                  "rejects": report.reject_total,
                                                  "rejects_file": str(rejects_file) if report.reject_total else None}
        skipped = ", ".join(f"{n} skipped: {reason}" for reason, n in sorted(report.skipped.items()))
        _log(f"ingested {source.kind}:{source.path}: {sum(written.values())} rows written, "
             f"{report.reject_total} rejected" + (f", {skipped}" if skipped else ""))
    return counts


@dataclass
class VersionScore:
    version: str
    ndcg10: float  # on the version's own test split (its report)
    path: Path | None = None


def hybrid_ndcg(metrics: dict[str, Any]) -> float:
    """The headline number a version is judged by: the hybrid's test NDCG@10."""
    return float(metrics["models"]["hybrid"]["ndcg@10"])


def train_candidate(graph: Graph, settings: Settings, progress: bool, quick: bool = False,
                    warm_from: Path | None = None) -> VersionScore:
    """Train every model into a new version folder (nothing in Neo4j changes) and read its test score.
    ``quick`` is `kgrec train --quick`'s config (epochs x0.1, one KGE candidate): for tests and smoke runs.
    ``warm_from``: a version folder whose embeddings the run starts from (ranking/warmstart.py)."""
    from kgrec.ranking.modelstore import read_report, version_dir
    from kgrec.ranking.training import TrainConfig, train

    config = TrainConfig.from_settings(settings, quick=quick)
    config.progress = progress
    config.warm_from = str(warm_from) if warm_from is not None else None
    version = train(graph, settings, config, log=_log)
    directory = version_dir(settings.models_dir, version)
    return VersionScore(version, hybrid_ndcg(read_report(directory)), directory)


def active_version(graph: Graph, settings: Settings) -> VersionScore | None:
    from kgrec.ranking.modelstore import locate_version

    rows = graph.read("models/active_version")
    if not rows:
        return None
    path = locate_version(settings, rows[0]["id"], rows[0]["key"], rows[0]["path"])
    return VersionScore(rows[0]["id"], hybrid_ndcg(json.loads(rows[0]["metrics"])), path)


def compare(candidate: VersionScore, active: VersionScore | None) -> tuple[float, float | None, str]:
    """(candidate NDCG@10, active NDCG@10 or None, how they were compared): both on the candidate's test
    split when the active version's files are here, else each on its own split (a weaker comparison)."""
    from kgrec.refresh.compare import same_test_ndcg

    if active is None:
        return candidate.ndcg10, None, "no active version"
    if active.path is not None and (active.path / "manifest.json").exists():
        scores = same_test_ndcg(candidate.path, {"candidate": candidate.path, "active": active.path})
        return scores["candidate"], scores["active"], "both on the candidate's test split"
    return candidate.ndcg10, active.ndcg10, "each on its own test split (the active version's files are missing)"


def run_refresh(settings: Settings, *, sources: list[str] | None = None, full: bool = False,
                tolerance: float = DEFAULT_TOLERANCE, progress: bool = True, quick: bool = False) -> RefreshOutcome:
    """One refresh run (see the module doc). Raises RefreshError/GraphUnavailable/LockHeld before it starts."""
    from kgrec.ranking import training
    from kgrec.ranking.modelstore import version_dir

    chosen = configured_sources(settings, sources)
    graph = Graph.connect(settings)  # fails fast with a clear message when Neo4j is unreachable
    run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    try:
        with RefreshLock(graph, run_id) as lock:
            graph.write("refresh/mark_interrupted", current=run_id, finished=_now())
            graph.write("refresh/start_run", id=run_id, started=_now(), host=socket.gethostname(),
                        pid=os.getpid(), full=full)
            outcome = RefreshOutcome(run_id, "failed")
            try:
                _log(f"run {run_id}: ingest from {', '.join(f'{s.kind}:{s.path}' for s in chosen) or 'no file source'}")
                outcome.counts = ingest_sources(graph, settings, chosen, progress)
                active = active_version(graph, settings)
                warm = None if full or active is None or active.path is None else active.path
                _log("training a candidate version" + (" (quick mode)" if quick else "")
                     + (" (full retrain)" if full else f", warm-started from {active.version}" if warm else ""))
                candidate = train_candidate(graph, settings, progress, quick, warm)
                outcome.version = candidate.version
                new, old, how = compare(candidate, active)
                outcome.metrics = {"candidate_ndcg@10": new, "active_ndcg@10": old, "tolerance": tolerance,
                                   "active_version": active.version if active else None, "compared": how,
                                   "candidate_report_ndcg@10": candidate.ndcg10}
                if old is not None and new < old - tolerance:
                    outcome.status = "kept"
                    outcome.reason = (f"candidate NDCG@10 {new:.4f} is worse than the active version's {old:.4f} "
                                      f"by more than {tolerance} ({how}); keeping {active.version}")
                    shutil.rmtree(version_dir(settings.models_dir, candidate.version), ignore_errors=True)
                elif not lock.holds():
                    raise RefreshError("lost the refresh lock before publishing; not publishing")
                else:
                    training.publish(graph, settings, candidate.version, log=_log)
                    outcome.status = "published"
                    outcome.reason = (f"candidate NDCG@10 {new:.4f}" +
                                      (f" vs active {old:.4f} ({how})" if old is not None else " (no active version)"))
            except BaseException as exc:
                outcome.status = "failed"
                outcome.reason = f"{type(exc).__name__}: {exc}"
                raise
            finally:
                graph.write("refresh/finish_run", id=run_id, finished=_now(), status=outcome.status,
                            counts=json.dumps(outcome.counts, default=str),
                            metrics=json.dumps(outcome.metrics, default=str), version=outcome.version,
                            reason=outcome.reason)
                _log(f"run {run_id}: {outcome.status}. {outcome.reason}")
            return outcome
    finally:
        graph.close()
