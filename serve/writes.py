"""What the API writes: interactions (read at once by the next request of the user: their revision goes up)
and erasure."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kgrec.catalogue import signals
from kgrec.catalogue.schema import Catalogue
from kgrec.config import Settings
from kgrec.graph import cypher
from kgrec.graph.connection import Graph
from kgrec.serve.errors import NotFound


@dataclass
class Interaction:
    """One interaction posted through the API: a rating, or an event with an optional weight/count."""

    item: int
    ts: int
    rating: float | None = None
    event: str | None = None
    weight: float | None = None


def add_interaction(graph: Graph, settings: Settings, catalogue: Catalogue, user: int,
                    interaction: Interaction) -> dict[str, Any]:
    """Write an interaction at once, merged with the user's earlier one of the item under the catalogue's
    signal model; a new user id creates the user, except an erased one: only the operator's `kgrec privacy
    reregister --user ID` lets that id back, as a new user."""
    from kgrec.privacy.tombstones import erased_absent

    if erased_absent(graph, settings, user):
        raise NotFound(f"user {user} was erased; only an operator can re-register the id as a new user "
                       "(kgrec privacy reregister --user ID)")
    scale = catalogue.signals
    new = signals.check(scale, interaction.rating, interaction.event, interaction.weight)
    old = graph.read("serve/interaction", user=user, item=interaction.item, interaction=scale.relationship)
    previous = signals.Signal(**old[0]["signal"]) if old and old[0]["signal"] else None
    merged = signals.combine(scale, previous, signals.Signal(new.rating, new.event, new.weight, interaction.ts))
    rows = graph.write(cypher.render("serve/add_interaction", interaction=scale.relationship), user=user,
                       item=interaction.item, **merged.as_row())
    if not rows:
        raise NotFound(f"item {interaction.item} not found")
    return rows[0]


def erase_user(graph: Graph, settings: Settings, user: int) -> dict[str, Any]:
    """Erase the user everywhere, derived data and model files included (kgrec.privacy.erase); returns what
    was removed."""
    from kgrec.privacy.erase import erase_user as erase

    result = erase(graph, settings, user)
    if result is None:
        raise NotFound(f"user {user} not found")
    return result.to_json()
