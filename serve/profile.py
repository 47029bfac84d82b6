"""The profile stage: a user's current interactions, tags and network counts, read at request time (so an
interaction posted a moment ago counts, without retraining), with the revisions a cached answer is checked
against, in one read."""
from __future__ import annotations

from dataclasses import dataclass

from kgrec.catalogue import signals
from kgrec.catalogue.schema import Catalogue
from kgrec.graph import cypher
from kgrec.graph.connection import Graph
from kgrec.metrics import timed
from kgrec.serve.errors import NotFound


class Profile(list):
    """A user's (item, value, ts) interactions, as the model scores them (the value under the catalogue's
    signal model: a rating, a play count's worth, a negative for a skip), plus their own (tag, item, ts)."""

    def __init__(self, ratings: list[tuple[int, float, int]], tagged: list[tuple[str, int, int]],
                 network: dict[int, int] | None = None):
        super().__init__(ratings)
        self.tagged = tagged
        self.tags = sorted({tag for tag, _, _ in tagged})
        #: item id -> how many people the user follows or befriends liked it (counts only: nobody is named)
        self.network = network or {}

    def negatives(self) -> list[int]:
        return [i for i, v, _ in self if v < 0]


@dataclass(frozen=True)
class Revisions:
    """What a cached answer depends on besides the model version (see kgrec.serve.cache)."""

    user: int
    graph: int


@timed("profile")
def read_profile(graph: Graph, user: int, catalogue: Catalogue,
                 cached: Revisions | None = None) -> tuple[Profile | None, Revisions]:
    """The user's profile and revisions; the profile is None (not read) when the revisions are still
    ``cached``'s. Raises NotFound for an unknown user."""
    s = catalogue.signals
    rows = graph.read_plain(cypher.render("serve/profile", interaction=s.relationship), user=user,
                            cached=None if cached is None else [cached.user, cached.graph])
    if not rows:
        raise NotFound(f"user {user} not found")
    row = rows[0]
    revisions = Revisions(int(row["user_revision"]), int(row["graph_revision"]))
    if row["unchanged"]:
        return None, revisions
    # (an event kind the schema no longer has says nothing: value None, left out)
    ratings = [(int(i), float(v), int(ts or 0)) for i, r, e, w, ts in row["interactions"]
               if (v := signals.value(s, r, e, w)) is not None]
    people: dict[int, set[int]] = {}
    for person, i, r, e, w in row["network"]:
        if signals.is_positive(s, signals.value(s, r, e, w)):
            people.setdefault(int(i), set()).add(person)
    profile = Profile(ratings, [(str(tag), int(i), int(t or 0)) for tag, i, t in row["tagged"]],
                      {i: len(p) for i, p in people.items()})
    return profile, revisions
