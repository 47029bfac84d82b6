"""What kgrec holds on one user, as JSON: the User node and every relationship it has (read generically:
interactions, tags, social edges and whatever a catalogue adds), and the model versions holding its rows."""
from __future__ import annotations

from typing import Any

from kgrec.config import Settings
from kgrec.graph.connection import Graph


def user_data(graph: Graph, settings: Settings, user: int) -> dict[str, Any] | None:
    """The export document, or None when the graph has no such user."""
    from kgrec.privacy.models import versions_holding

    rows = graph.read("privacy/user_data", user=user)
    if not rows:
        return None
    relationships = [plain(r) for r in rows[0]["relationships"]]
    return {"user": user, "properties": plain(rows[0]["properties"]),
            "relationships": relationships,
            "counts": _counts(relationships),
            "model_versions": [{"version": v, "interactions": n}
                               for v, n in versions_holding(graph, settings, user).items()]}


def _counts(relationships: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in relationships:
        counts[r["type"]] = counts.get(r["type"], 0) + 1
    return counts


def plain(value: Any) -> Any:
    """JSON-ready: Neo4j temporal values as ISO 8601 text, containers recursively."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "iso_format"):
        return value.iso_format()
    return value
