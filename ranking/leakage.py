"""Facts derived from interactions, as the evaluated run may see them: only the training period's.

Users' tags become item facts (``HAS_TAG``, and ``MENTIONS`` of entities read from tags enough people
wrote). A tag applied in the validation or test period says something about the item *because* that user
interacted with it then: a model trained with it would see the held-out period. With evaluation, a fact
keeps only what the training period (or a source outside the interactions, e.g. HetRec's tag weights)
backs; the published refit sees them all. Popularity, item-kNN, EASE and the rest are fitted on the
training matrix only, and CO_LIKED is never read for training.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from kgrec.ranking.dataset import Dataset
from kgrec.ranking.split import TRAIN, Split

TAG_RELATION = "HAS_TAG"
MENTION_RELATION = "MENTIONS"


def tag_key(text: str) -> str:
    """The attribute key of the Tag node a written tag counts towards (ingest folds case and spaces)."""
    return "Tag:" + " ".join(str(text).lower().split())


@dataclass(frozen=True)
class TagSources:
    """Who applied which tag when, each HAS_TAG fact's count, and the MENTIONS facts tags may explain."""

    applied: list[tuple[int, int, str, int]] = field(default_factory=list)  # (user id, item id, tag key, ts)
    counts: dict[tuple[int, str], float] = field(default_factory=dict)        # (item id, tag key) -> count
    mentions: dict[tuple[int, str], list[str]] = field(default_factory=dict)  # (item id, attr key) -> tag keys

    @classmethod
    def from_rows(cls, tagged: Iterable[dict], counts: Iterable[dict], mentions: Iterable[dict]) -> "TagSources":
        return cls([(int(r["user"]), int(r["item"]), tag_key(r["tag"]), int(r["ts"] or 0)) for r in tagged
                    if r["tag"] is not None],
                   {(int(r["item"]), tag_key(r["tag"])): float(r["count"]) for r in counts},
                   {(int(r["item"]), r["attr"]): [tag_key(t) for t in r["tags"]] for r in mentions})


def training_facts(data: Dataset, split: Split, sources: TagSources) -> np.ndarray:
    """Per fact of ``data``: may the evaluated run use it? Every fact but interaction-derived ones is kept.

    A user's tag application counts when that user's interaction with the item is in the training part, or
    (no interaction with it) when it is no later than the user's last training interaction. A HAS_TAG fact
    is kept while its count minus the applications that do not count stays above 0; a MENTIONS fact some
    tag names is kept while one of those tags is kept."""
    keep = np.ones(len(data.fact_items), dtype=bool)
    if not sources.applied:
        return keep
    part_of: dict[tuple[int, int], int] = {}
    for u, i, p in zip(data.users.tolist(), data.items.tolist(), split.part.tolist()):
        # the training part wins when an item was interacted with in several parts (a re-rating)
        if part_of.get((u, i)) != TRAIN:
            part_of[(u, i)] = p
    cutoff = np.full(data.n_users, -1, dtype=np.int64)
    train = split.part == TRAIN
    np.maximum.at(cutoff, data.users[train], data.ts[train])
    unseen: dict[tuple[int, str], int] = {}  # (item id, tag key) -> applications from held-out periods
    for user, item, key, ts in sources.applied:
        u = _index(data.user_ids, user)
        i = _index(data.item_ids, item)
        if u < 0 or i < 0:
            continue  # a tagger without interactions, or an item outside the catalogue: not a held-out period
        p = part_of.get((u, i))
        counts = p == TRAIN if p is not None else ts <= cutoff[u]
        if not counts:
            unseen[(item, key)] = unseen.get((item, key), 0) + 1
    if not unseen:
        return keep
    rel = {r: n for n, r in enumerate(data.relations)}
    dropped_tags: set[tuple[int, str]] = set()
    if TAG_RELATION in rel:
        for n in np.flatnonzero(data.fact_relations == rel[TAG_RELATION]):
            item, key = int(data.item_ids[data.fact_items[n]]), data.attr_keys[data.fact_attrs[n]]
            if (item, key) in unseen and sources.counts.get((item, key), 0.0) - unseen[(item, key)] <= 0:
                keep[n] = False
                dropped_tags.add((item, key))
    if MENTION_RELATION in rel and dropped_tags:
        for n in np.flatnonzero(data.fact_relations == rel[MENTION_RELATION]):
            item, key = int(data.item_ids[data.fact_items[n]]), data.attr_keys[data.fact_attrs[n]]
            tags = sources.mentions.get((item, key))
            if tags and all((item, t) in dropped_tags for t in tags):
                keep[n] = False
    return keep


def _index(ids: np.ndarray, value: int) -> int:
    pos = int(np.searchsorted(ids, value))
    return pos if pos < len(ids) and ids[pos] == value else -1


def with_facts(data: Dataset, keep: np.ndarray) -> Dataset:
    """``data`` with only the facts ``keep`` marks (attribute and relation numbering unchanged)."""
    from dataclasses import replace

    return replace(data, fact_items=data.fact_items[keep], fact_relations=data.fact_relations[keep],
                   fact_attrs=data.fact_attrs[keep])
