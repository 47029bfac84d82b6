"""In-memory discovery of shared-node candidates from the model's item facts.

Walking the graph for every (liked item, shared node, recommended item) triple costs hundreds of
milliseconds and returns hundreds of paths, most of them discarded. The model directory already holds
every item's attributes, so the shared nodes are found here (sparse item x attribute matrix, built once
per model load) and ranked provisionally; only the few chosen triples are then MATCHed literally in
Neo4j (cypher/explain/paths.cypher, ``$chosen``), so a triple the graph no longer holds is dropped.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from kgrec.explain.paths import _KIND_BY_TYPE, BROAD_DEGREE, KEY_BY_LABEL, KIND_PRIOR, LIKED_SCAN

#: candidates kept per item and kind beyond ``per_kind``: spares for triples whose MATCH fails
SPARE = 2


def _prior(relation: str) -> float:
    """KIND_PRIOR of the link a relation stands for (as kind_of reads it when both sides agree)."""
    return KIND_PRIOR.get(_KIND_BY_TYPE.get(relation, "entity"), 1.0)


@dataclass(frozen=True)
class SharedIndex:
    item_ids: np.ndarray       # sorted external ids, the model's index order
    rows: sparse.csr_matrix    # item x attribute; value = relation index + 1 (the kind of link)
    degree: np.ndarray         # items per attribute (a proxy of the node's degree, for the provisional order)
    attr_keys: tuple[str, ...]
    relations: tuple[str, ...]

    @classmethod
    def load(cls, model_dir: Path | str) -> "SharedIndex":
        from kgrec.ranking.dataset import Dataset

        data = Dataset.load(Path(model_dir))
        return cls.build(data.item_ids, data.fact_items, data.fact_attrs, data.fact_relations, data.attr_keys,
                         data.relations)

    @classmethod
    def build(cls, item_ids: np.ndarray, fact_items: np.ndarray, fact_attrs: np.ndarray,
              fact_relations: np.ndarray, attr_keys: Sequence[str], relations: Sequence[str]) -> "SharedIndex":
        n_items, n_attrs = len(item_ids), len(attr_keys)
        # one entry per (item, attribute): a person who both directed and acted keeps one relation here;
        # the literal MATCH returns every relationship anyway
        cell = fact_items.astype(np.int64) * max(n_attrs, 1) + fact_attrs
        _, first = np.unique(cell, return_index=True)
        rows = sparse.csr_matrix((fact_relations[first].astype(np.int32) + 1, (fact_items[first], fact_attrs[first])),
                                 shape=(n_items, n_attrs))
        rows.sort_indices()
        degree = np.bincount(fact_attrs[first], minlength=n_attrs)
        return cls(np.asarray(item_ids), rows, degree, tuple(attr_keys), tuple(relations))

    def positions(self, ids: Sequence[int]) -> np.ndarray:
        """Model index of each id, -1 where the model does not know it (added after training)."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids) or not len(self.item_ids):
            return np.full(len(ids), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.item_ids, ids), len(self.item_ids) - 1)
        return np.where(self.item_ids[pos] == ids, pos, -1)

    def plan(self, items: Sequence[int], liked: Sequence[int], interactions: Mapping[int, tuple[float, int]],
             per_kind: int) -> dict[str, Any]:
        """explain_items' keyword arguments: the chosen triples, the items the model does not know
        (discovered in Cypher, as before) and the liked items it does not know (likewise)."""
        return {"chosen": self.choose(items, liked, interactions, per_kind),
                "discover": [int(i) for i, p in zip(items, self.positions(items)) if p < 0],
                "new_liked": [int(i) for i, p in zip(liked, self.positions(liked)) if p < 0]}

    def choose(self, items: Sequence[int], liked: Sequence[int], interactions: Mapping[int, tuple[float, int]],
               per_kind: int, per_item: int = 8) -> list[dict[str, Any]]:
        """The (liked item, shared attribute, item) triples worth fetching, as $chosen rows.

        ``liked`` is best-rated-newest-first (as in Likes); ``interactions`` maps a liked id to its
        (rating, ts). Mirrors paths.cypher's provisional order: per item and kind of link, rarer shared
        nodes and higher ratings first, and a broad node (more than BROAD_DEGREE items) is only tried
        against the first LIKED_SCAN liked items, two at most.
        """
        liked_ids = np.asarray(liked, dtype=np.int64)
        liked_pos = self.positions(liked_ids)
        known = liked_pos >= 0
        liked_ids, liked_pos = liked_ids[known], liked_pos[known]
        item_pos = self.positions(items)
        if not len(liked_pos):
            return []
        # liked x attribute, by column: for a shared attribute, which liked items (in liked order) have it
        by_attr = self.rows[liked_pos].tocsc()
        by_attr.sort_indices()
        out: list[dict[str, Any]] = []
        for item, pos in zip(items, item_pos):
            if pos < 0:
                continue
            lo, hi = self.rows.indptr[pos], self.rows.indptr[pos + 1]
            groups: dict[int, list[tuple[float, int, int, int]]] = {}
            for attr, rel in zip(self.rows.indices[lo:hi].tolist(), self.rows.data[lo:hi].tolist()):
                who = by_attr.indices[by_attr.indptr[attr]:by_attr.indptr[attr + 1]]
                if not len(who):
                    continue
                degree = int(self.degree[attr])
                if degree > BROAD_DEGREE:
                    who = who[who < LIKED_SCAN]
                who = who[liked_pos[who] != pos][:2 if degree > BROAD_DEGREE else None]
                for w in who.tolist():
                    rating, ts = interactions.get(int(liked_ids[w]), (None, 0))
                    score = (rating if rating is not None else 4.5) / math.log(2.0 + degree)
                    groups.setdefault(rel, []).append((-score * _prior(self.relations[rel - 1]), -(ts or 0), w, attr))
            # the best of each kind of link first (so selection can vary kinds), then the best of the rest,
            # ``per_item`` in all: selection keeps a few per item, the Cypher co-liked/own-tag rows add more
            ranked = [sorted(group) for group in groups.values()]
            firsts = sorted(g[0] for g in ranked)
            rest = sorted(c for g in ranked for c in g[1:per_kind + SPARE])
            for _, _, w, attr in (firsts + rest)[:per_item]:
                    label, value = self.attr_keys[attr].split(":", 1)
                    out.append({"item": int(item), "liked": int(liked_ids[w]), "label": label,
                                "key": KEY_BY_LABEL.get(label, "id"), "value": value})
        return out
