"""`kgrec privacy audit`: where anything of one user id remains — the graph, every model version's files, the
serving caches (through the graph revision), the ingest reports and the rejects files."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from kgrec.config import Settings
from kgrec.graph.connection import Graph


@dataclass
class Audit:
    user: int
    traces: list[str] = field(default_factory=list)  # where something of the user remains
    notes: list[str] = field(default_factory=list)   # what was checked and found clean, or worth knowing

    @property
    def clean(self) -> bool:
        return not self.traces

    def to_json(self) -> dict[str, Any]:
        return {"user": self.user, "clean": self.clean, "traces": self.traces, "notes": self.notes}

    def format(self) -> str:
        head = f"user {self.user}: " + ("nothing remains" if self.clean else f"{len(self.traces)} trace(s) remain")
        return "\n".join([head, *(f"  REMAINS {t}" for t in self.traces), *(f"  ok      {n}" for n in self.notes)])


def audit_user(graph: Graph, settings: Settings, user: int) -> Audit:
    from kgrec.privacy.erase import rejects_files
    from kgrec.privacy.feeds import rejected_rows
    from kgrec.privacy.models import version_dirs, versions_holding
    from kgrec.privacy.tombstones import checked_key, user_hash

    audit = Audit(user)
    row = graph.read("privacy/audit", user=user, hash=user_hash(checked_key(graph, settings), user))[0]
    if row["user_node"] and row["reregistered"]:
        audit.notes.append(f"graph: re-registered by the operator after the erasure ({row['relationships']} "
                           "relationships since)")
    elif row["user_node"]:
        audit.traces.append(f"graph: User node with {row['relationships']} relationships")
    else:
        audit.notes.append("graph: no User node")
    if row["tombstone"]:
        audit.notes.append(f"graph: erasure tombstone from {row['erased']} (feeds skip this id)")
        if row["revision_after_erasure"]:
            audit.notes.append("caches: the graph revision moved on after the erasure (every serving process "
                               "recomputes)")
        else:
            audit.traces.append("caches: the graph revision has not moved since the erasure: serving processes "
                                "may still answer from documents cached before it")
    else:
        audit.notes.append("graph: no erasure tombstone (later feeds would load this id again)")
    holding = versions_holding(graph, settings, user)
    audit.traces += [f"model version {v}: {n} interactions of the user (dataset.npz)" for v, n in holding.items()]
    checked = len(version_dirs(graph, settings))
    if not holding:
        audit.notes.append(f"models: none of {checked} version(s) holds the user")
    for path in _reports(settings):
        if _mentions_user(json.loads(path.read_text()), user):
            audit.traces.append(f"ingest report {path}: names the user")
    files = rejects_files(settings)
    for path in files:
        _, matched = rejected_rows(path, lambda u: u == user)
        if matched:
            audit.traces.append(f"rejects file {path}: {matched} row(s) with the user's id")
    audit.notes.append(f"ingest reports and {len(files)} rejects file(s) checked")
    return audit


def _reports(settings: Settings) -> list:
    folder = settings.home / "ingest"
    return sorted(p for p in folder.glob("*.json") if p.name != "entity-cache.json") if folder.is_dir() else []


def _mentions_user(value: Any, user: int) -> bool:
    """Whether a report's text names the user ("user 610", "userId=610"). Reports hold counts (a count of
    User nodes may well equal an id) and reasons, never ids: only text can name someone."""
    if isinstance(value, dict):
        return any(_mentions_user(v, user) for v in value.values())
    if isinstance(value, list):
        return any(_mentions_user(v, user) for v in value)
    return isinstance(value, str) and re.search(rf"\buser\w*\W{{1,3}}{user}\b", value, re.IGNORECASE) is not None
