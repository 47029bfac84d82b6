"""The re-rank stage: from the catalogue's scores to the ranked pool a document is cut from: the allowed items
best first, optionally diversified (maximal marginal relevance), the cold slot, and items added after the model
was trained, placed by their attribute-based score."""
from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from kgrec.graph.connection import Graph
from kgrec.metrics import timed
from kgrec.serve.profile import Profile

#: a "cold" item is new in the data (Recommender.new: first interaction in the last NEW_ITEM_DAYS, or none)
#: and has fewer training interactions than this: the collaborative terms cannot rank it yet, so a cold item
#: whose attributes match the user's at least COLD_MIN_Z standard deviations above the catalogue's mean may
#: take one of the last KGREC_COLD_SLOTS slots (marked "cold_start")
COLD_INTERACTIONS = 5
COLD_MIN_Z = 3.0

NewItem = tuple[int, list[tuple[str, str]]]  # item id, its (relation, attribute key) facts


@timed("rerank")
def rank(model: Any, scores: np.ndarray, allowed: np.ndarray, k: int, diversity: float) -> list[int]:
    """Catalogue positions of the ``k`` best allowed items; with ``diversity`` > 0, maximal marginal
    relevance over the item embeddings trades score for dissimilarity to what is already chosen."""
    candidates = np.flatnonzero(allowed)
    if len(candidates) == 0:
        return []
    size = max(k * 5, 50) if diversity else k
    if len(candidates) > size:
        candidates = candidates[np.argpartition(-scores[candidates], size - 1)[:size]]
    pool = candidates[np.argsort(-scores[candidates], kind="stable")]
    if not diversity:
        return [int(i) for i in pool[:k]]
    vectors = np.asarray(model.item_vectors(pool), dtype=np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
    s = scores[pool]
    s = (s - s.min()) / (s.max() - s.min() + 1e-12)
    chosen: list[int] = []
    max_sim = np.zeros(len(pool))
    for _ in range(min(k, len(pool))):
        value = (1 - diversity) * s - diversity * max_sim
        value[chosen] = -np.inf
        best = int(np.argmax(value))
        chosen.append(best)
        max_sim = np.maximum(max_sim, vectors @ vectors[best])
    return [int(pool[i]) for i in chosen]


def cold_items(model: Any, profile: Sequence[tuple[int, float, int]], allowed: np.ndarray, taken: Sequence[int],
               slots: int, content: np.ndarray | None = None) -> list[int]:
    """Catalogue positions of up to ``slots`` cold items (new in the data, fewer than COLD_INTERACTIONS
    training interactions) among ``allowed`` and not ``taken`` whose attributes match the profile's by a
    content z-score (``content``, else computed) of at least COLD_MIN_Z, best match first; often none."""
    if slots <= 0 or not profile or getattr(model, "new", None) is None:
        return []
    cold = allowed & model.new & (np.asarray(model.components.popularity) < COLD_INTERACTIONS)
    cold[np.asarray(taken, dtype=np.int64)] = False
    if not cold.any():
        return []
    z = content if content is not None else model.content_scores(profile)
    found = np.flatnonzero(cold & (z >= COLD_MIN_Z))
    return [int(i) for i in found[np.argsort(-z[found], kind="stable")][:slots]]


class NewItems:
    """Items added since a model version was trained, with their facts: read again only when the graph's
    revision (read with each profile) moved. One per process; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._found: tuple[tuple[str, int], list[NewItem]] | None = None

    def get(self, graph: Graph, model: Any, graph_revision: int) -> list[NewItem]:
        stamp = (model.version, graph_revision)
        found = self._found
        if found is not None and found[0] == stamp:
            return found[1]
        c = model.catalogue
        rows = graph.read_plain("serve/new_items", known=model.item_ids.tolist(), attribute_types=c.attribute_types,
                                attribute_labels=c.attribute_labels, id_labels=c.id_labels)
        items = [(int(r["item"]), [(rel, key) for rel, key in r["facts"]]) for r in rows]
        with self._lock:
            self._found = (stamp, items)
        return items

    def forget(self) -> None:
        """An item was written through this process: look again at the next request."""
        with self._lock:
            self._found = None


def add_new_items(model: Any, profile: Profile, new: Sequence[NewItem], pool: list[int], scores: dict[int, float],
                  exclude_seen: bool, allowed: set[int] | None, size: int, protected: int | None) -> None:
    """Put items the model has not seen into ``pool`` (ids, best first) where their attribute-based score
    (Recommender.score_new_items) ranks them; a shop's new product reaches a fan of its brand. The first
    ``protected`` entries of the pool keep their place (what follows them is the cold slot)."""
    if not new or not profile:
        return
    seen = {p[0] for p in profile} if exclude_seen else set(profile.negatives())
    head = pool[:protected] if protected is not None else pool
    tail = pool[len(head):]
    wanted = [(item, facts) for item, facts in new if item not in seen and (allowed is None or item in allowed) and facts]
    for (item, _), score in zip(wanted, model.score_new_items(profile, [facts for _, facts in wanted])):
        scores[item] = score
        head.append(item)
    head.sort(key=lambda i: -scores[i])
    pool[:] = (head[:size - len(tail)] + tail) if tail else head[:size]
