"""Erasing a user so that it stays erased: the tombstone, the node and its relationships, the data derived
from them (CO_LIKED pairs, tag counts, MENTIONS from their tags; popularity is read live from RATED), every
model version's rows, the rejects files; the graph revision moves on, so every serving process drops what it
cached. Once ``erase_user`` returns, no explanation can rest on the user's data."""
from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kgrec.config import Settings
from kgrec.graph.connection import Graph
from kgrec.ingest.names import tag_name
from kgrec.privacy.tombstones import checked_key, tombstone_step


@dataclass
class Erasure:
    user: int
    in_graph: bool  # the user had a node (else only the tombstone and files were dealt with)
    relationships: int = 0
    co_liked: dict[str, Any] = field(default_factory=dict)  # the CO_LIKED rebuild's counts
    tags_removed: int = 0  # (item, tag) applications that only this user had made
    mentions_removed: int = 0
    model_versions: dict[str, int] = field(default_factory=dict)  # version -> interactions removed
    rejects_rows: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # per phase

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def erase_user(graph: Graph, settings: Settings, user: int, *, require_node: bool = True) -> Erasure | None:
    """Erase ``user`` everywhere kgrec keeps data. With ``require_node`` (the API) an id without a User node
    returns None and changes nothing; without it (`kgrec privacy erase`) the tombstone is still recorded,
    so rows of that id in files not yet ingested never load, and the model files are purged anyway."""
    from kgrec.ingest.colike import rebuild_co_liked
    from kgrec.privacy.mentions import recompute_mentions
    from kgrec.privacy.models import purge_models

    clock = _Clock()
    rows = graph.read("privacy/footprint", user=user)
    if not rows and require_node:
        return None
    tagged = [(int(i), str(t)) for i, t in rows[0]["tagged"]] if rows else []
    untag = Counter((item, tag_name(tag)) for item, tag in tagged)
    steps: list[tuple[str, dict[str, Any]]] = [
        tombstone_step(checked_key(graph, settings), user),
        ("privacy/untag", {"rows": [{"item": i, "name": n, "n": c} for (i, n), c in untag.items()]}),
        ("serve/erase_user", {"user": user}),  # the node and its relationships; the graph revision goes up
    ]
    _, untagged, erased = graph.write_together(steps)
    result = Erasure(user, bool(erased), erased[0]["relationships"] if erased else 0)
    names = sorted({r["name"] for r in untagged})
    if names:
        graph.write("privacy/orphan_tags", names=names)
    result.tags_removed = len(untagged)
    clock.lap(result, "graph")
    if result.in_graph:
        result.co_liked = asdict(rebuild_co_liked(graph, settings))
    clock.lap(result, "co_liked")
    gone = {(r["item"], r["name"]) for r in untagged}
    texts: dict[int, list[str]] = {}
    for item, tag in tagged:
        if (item, tag_name(tag)) in gone:
            texts.setdefault(item, []).append(tag)
    result.mentions_removed = recompute_mentions(graph, settings, texts)
    clock.lap(result, "mentions")
    result.model_versions = purge_models(graph, settings, user)
    clock.lap(result, "models")
    result.rejects_rows = scrub_all_rejects(settings, user)
    # derived data changed after the first bump: documents cached in between must not be served either
    graph.write("ingest/bump_revision")
    clock.lap(result, "rejects and revision")
    return result


class _Clock:
    def __init__(self) -> None:
        self.last = time.perf_counter()

    def lap(self, result: Erasure, phase: str) -> None:
        now = time.perf_counter()
        result.seconds[phase] = round(now - self.last, 3)
        self.last = now


def scrub_all_rejects(settings: Settings, user: int) -> int:
    from kgrec.privacy.feeds import scrub_rejects

    return sum(scrub_rejects(path, lambda u: u == user) for path in rejects_files(settings))


def rejects_files(settings: Settings) -> list[Path]:
    """The rejects files kgrec wrote: the rejects folder, and the one the last ingest report names."""
    found = set(settings.rejects_dir.glob("**/*.csv")) if settings.rejects_dir.is_dir() else set()
    report = settings.home / "ingest" / "last-run.json"
    if report.is_file():
        try:
            named = json.loads(report.read_text()).get("rejects_file")
        except ValueError:
            named = None
        if named and Path(named).is_file():
            found.add(Path(named))
    return sorted(found)
