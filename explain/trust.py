"""What may explain, and how each explanation is credited: the rules that make a valid path a reason people
can trust (README "Recommendations and their explanations").

- Junk never explains: a tag applied by fewer than ``min_tag_users`` distinct users (your own tags aside:
  you wrote them), an entity that is a date, time, number, quantity, amount or percentage.
- A person in a minor role (billed after the attribute's ``salient`` cut, on either side of the path) only
  explains an item nothing salient explains.
- One fact once: a node reached several ways (directed, mentioned, tagged with its name) is shown once per
  item, through the most structural relationship the catalogue schema ranks highest.
- Faithful: each explanation's ``contribution_share`` is the cited item's share of the evidence the served
  model scored the item with; an item whose removal would not lower the score is never the main reason.

Both candidate finders (in memory, explain/shared.py; the graph walk, cypher/explain/paths.cypher) apply the
junk rules where they find candidates; ``trusted`` applies the minor-role and one-fact rules to what they
return, whichever it was.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from kgrec.catalogue.schema import Catalogue
from kgrec.graph.connection import Graph
from kgrec.ingest.names import slug as _slug, tag_name

if TYPE_CHECKING:
    from kgrec.explain.paths import Candidate

#: spaCy labels of entities that never explain: "both mention 1955" is a coincidence, not a reason
JUNK_ENTITY_LABELS = ("DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT")
#: the default of KGREC_EXPLAIN_MIN_TAG_USERS: a tag only one person ever applied is their private word
DEFAULT_MIN_TAG_USERS = 2
#: labels whose key carries a prefix before the name ("date:1955", "color:Red"), dropped from the fact key
PREFIXED_LABELS = ("Entity", "Attribute")


#: names are folded again and again across requests (every candidate's shared node): remember them
slug = lru_cache(maxsize=1 << 16)(_slug)


def junk_entity_id(entity_id: str) -> bool:
    """An entity found in text that matches no node is ``<spacy label>:<name>`` (ingest/entities.py)."""
    head, sep, _ = entity_id.partition(":")
    return bool(sep) and head.upper() in JUNK_ENTITY_LABELS


@dataclass(frozen=True)
class Taggers:
    """Distinct users per Tag (folded name): the most of HAS_TAG.count on one item (an aggregate of distinct
    users' applications, HetRec's weights included) and the distinct users of its TAGGED relationships,
    whichever is larger. Read once per model load (cypher/explain/tag_users.cypher)."""

    users: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, graph: Graph) -> "Taggers":
        users: dict[str, int] = {}
        who: dict[str, set[Any]] = {}
        for row in graph.stream("explain/tag_users"):
            if row["user"] is None:
                users[row["tag"]] = max(users.get(row["tag"], 0), int(row["count"] or 0))
            else:
                who.setdefault(tag_name(row["tag"]), set()).add(row["user"])
        for tag, people in who.items():
            users[tag] = max(users.get(tag, 0), len(people))
        return cls(users)

    def junk(self, tag: str, min_users: int) -> bool:
        return self.users.get(tag, 0) < min_users


@lru_cache(maxsize=1 << 16)  # every candidate of every served item asks; names fold slowly (unicode)
def fact_key(label: str, value: str) -> str:
    """What a shared node is about, whichever way it is reached: the Person "Frank Darabont", the Tag
    "frank darabont" and the Entity "person:frank darabont" are one fact."""
    if label in PREFIXED_LABELS and ":" in value:
        value = value.split(":", 1)[1]
    return slug(value) or value


def fact_of(c: "Candidate") -> str | None:
    """The fact a candidate's shared node stands for (None for a co-liked path: no shared node)."""
    if c.spec is not None:
        return fact_key(c.spec["label"] if "label" in c.spec else "Tag", str(c.spec["value"])) \
            if "value" in c.spec else None
    if len(c.nodes) != 4:
        return None
    node = c.nodes[2]
    labels = node["labels"]
    if node.get("name"):
        return slug(str(node["name"])) or str(node["name"])
    return fact_key(next((l for l in PREFIXED_LABELS if l in labels), labels[0]), str(node.get("id")))


def relationship_types(c: "Candidate") -> tuple[str, ...]:
    """The relationship types that reach the shared node, on the liked and on the recommended side."""
    if c.spec is not None:
        if c.spec["via"] == "shared":
            return c.spec["liked_rel"], c.spec["item_rel"]
        return ("HAS_TAG",) if c.spec["via"] == "your_tag" else ()
    return tuple(r["type"] for r in c.rels[1:3]) if len(c.nodes) == 4 else ()


def structural_rank(c: "Candidate", catalogue: Catalogue) -> tuple[int, int]:
    """Lower is more structural: (the weaker side, the stronger side) by the schema's attribute order, so a
    person who directed both items ranks before one who directed one and acted in the other."""
    worst = len(catalogue.attributes)
    by_type = catalogue.rank_by_relationship
    ranks = [by_type.get(t, worst) for t in relationship_types(c)] or [worst]
    return max(ranks), min(ranks)


def is_minor(c: "Candidate", catalogue: Catalogue) -> bool:
    """A person billed after the attribute's ``salient`` cut on either side of a fetched path; a candidate
    found in memory says so itself (``Candidate.minor``)."""
    if c.rels and len(c.nodes) == 4:
        for rel in c.rels[1:3]:
            spec = catalogue.by_relationship.get(rel["type"])
            order = rel["properties"].get("order")
            if spec is not None and spec.salient is not None and order is not None and order > spec.salient:
                return True
        return False
    return c.minor


def trusted(candidates: Sequence["Candidate"], catalogue: Catalogue) -> list["Candidate"]:
    """One item's candidates without minor roles (unless nothing salient shares a node) and with each fact
    reached only through its most structural relationship; the order is kept."""
    # each candidate's fact and rank once (this runs for every candidate of every served item)
    facts = [fact_of(c) for c in candidates]
    minor = [is_minor(c, catalogue) for c in candidates]
    if any(not m and f is not None for f, m in zip(facts, minor)):
        kept = [(c, f) for c, f, m in zip(candidates, facts, minor) if not m]
    else:
        kept = list(zip(candidates, facts))
    ranks = [structural_rank(c, catalogue) if f is not None else None for c, f in kept]
    best: dict[str, tuple[int, int]] = {}
    for (_, f), r in zip(kept, ranks):
        if f is not None and (f not in best or r < best[f]):
            best[f] = r
    return [c for (c, f), r in zip(kept, ranks) if f is None or r == best[f]]


#: a share below this (0.1% of the positive evidence) counts as none: the score moves by less than the
#: standardised terms' float32 rounding, and it would be shown as 0.0
MIN_SHARE = 1e-3


class Shares:
    """Each profile item's share of the positive evidence behind one item's score: its contribution (the
    served score's drop without that item, explain/fidelity.py) over the sum of the positive ones. A share
    <= 0: removing that item would not lower the score (a negligible one, below MIN_SHARE, counts as 0).
    Computed when asked: a list cites a few of a long profile's items."""

    def __init__(self, contributions: Mapping[int, float]):
        self.contributions = contributions
        total = getattr(contributions, "positive_total", None)  # summed in numpy (ranking.recommender)
        if total is not None:
            self.total = total()
        else:  # (a whole profile's items, for every ranked item)
            values = np.fromiter(contributions.values(), dtype=np.float64, count=len(contributions))
            self.total = float(values[values > 0].sum())

    def get(self, item: int, default: float = 0.0) -> float:
        v = self.contributions.get(item)
        if v is None:
            return default
        v = v / self.total if self.total > 0 else min(v, 0.0)
        return 0.0 if 0.0 < v < MIN_SHARE else v


def ordered(picked: Iterable[tuple[Any, ...]], share_of: int) -> list[tuple[Any, ...]]:
    """Explanations ordered by the cited item's share (unknown shares after the positive ones, before the
    ones that do not lower the score), stable otherwise."""
    def key(entry: tuple[Any, ...]) -> float:
        share = entry[share_of]
        return -(share if share is not None else 0.0)

    return sorted(picked, key=key)
