"""Which shared nodes are worth citing, learned from the training interactions instead of set by hand.

For each kind of link (a shared director, actor, tag, ... or a CO_LIKED pair) and each degree bucket of the
shared node (log2 of how many items it links), the lift of "liked B | liked A" over "liked B" among item
pairs that share such a node:

    lift = sum over sampled pairs of co-likers(A, B)  /  sum of likers(A) x likers(B) / users

on the TRAIN interactions of the model's split (split.npy; positives by the catalogue's signal model), so a
maker whose items the same people like scores high, a category shared by thousands of unrelated items near
1. Pairs are sampled uniformly per (node label, bucket); a bucket with too few pairs falls back to its kind's
pooled lift. Estimated once per model load (explain/shared.py), used by explain/paths.py rank().
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from kgrec.catalogue.schema import Catalogue

#: sampled item pairs per (node label, degree bucket) and for CO_LIKED pairs per bucket
SAMPLES = 2000
#: fewer sampled pairs than this in a (kind, bucket): the kind's pooled lift is used
MIN_PAIRS = 30
#: pseudo-counts pulling a thinly supported lift toward 1 (no evidence either way)
SMOOTHING = 2.0
MAX_BUCKET = 12


def bucket(degree: int) -> int:
    """log2 degree bucket: 1, 2-3, 4-7, ... (capped)."""
    return min(int(math.log2(max(int(degree), 1))), MAX_BUCKET)


@dataclass(frozen=True)
class Lifts:
    """Lift per (kind, degree bucket), and pooled per kind."""

    by_bucket: dict[tuple[str, int], float] = field(default_factory=dict)
    by_kind: dict[str, float] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_kind)

    def of(self, kind: str, degree: int) -> float:
        """The lift of a link of ``kind`` through a node of ``degree`` (1.0: no evidence of any)."""
        found = self.by_bucket.get((kind, bucket(degree)))
        return found if found is not None else self.by_kind.get(kind, 1.0)

    @classmethod
    def estimate(cls, positives: sparse.csc_matrix, rows: sparse.csr_matrix, attr_keys: tuple[str, ...],
                 relations: tuple[str, ...], catalogue: Catalogue, co_liked: Mapping[int, Mapping[int, int]],
                 positions: Mapping[int, int], seed: int = 0) -> "Lifts":
        """``positives``: users x items, 1 for a TRAIN positive; ``rows``: the index's item x attribute matrix
        (value = relation index + 1); ``co_liked``: item id -> {item id: users}; ``positions``: item id ->
        model index."""
        from kgrec.explain.paths import kind_of_types

        rng = np.random.default_rng(seed)
        n_users = max(positives.shape[0], 1)
        likes = np.asarray(positives.sum(0)).ravel().astype(np.float64)
        sums: dict[tuple[str, int], list[float]] = {}  # (kind, bucket) -> [co-likers, expected, pairs]

        def add(kinds: list[str], buckets: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
            co = np.asarray(positives[:, a].multiply(positives[:, b]).sum(0)).ravel()
            expected = likes[a] * likes[b] / n_users
            for kind, bk, c, e in zip(kinds, buckets.tolist(), co.tolist(), expected.tolist()):
                entry = sums.setdefault((kind, bk), [0.0, 0.0, 0])
                entry[0] += c
                entry[1] += e
                entry[2] += 1

        by_node = rows.tocsc()
        degree = np.diff(by_node.indptr)
        labels = np.array([k.split(":", 1)[0] for k in attr_keys])
        node_buckets = np.array([bucket(d) for d in degree.tolist()], dtype=np.int64)
        for label in np.unique(labels).tolist() if len(labels) else []:
            for bk in np.unique(node_buckets[(labels == label) & (degree >= 2)]).tolist():
                nodes = np.flatnonzero((labels == label) & (node_buckets == bk) & (degree >= 2))
                pairs = degree[nodes].astype(np.float64) * (degree[nodes] - 1)
                chosen = rng.choice(nodes, size=SAMPLES, p=pairs / pairs.sum())
                d = degree[chosen]
                i = rng.integers(0, d)
                j = rng.integers(0, d - 1)
                j = j + (j >= i)
                start = by_node.indptr[chosen]
                a, b = by_node.indices[start + i], by_node.indices[start + j]
                rel_a, rel_b = by_node.data[start + i], by_node.data[start + j]
                kinds = [kind_of_types(catalogue, relations[x - 1], relations[y - 1])
                         for x, y in zip(rel_a.tolist(), rel_b.tolist())]
                add(kinds, node_buckets[chosen], a, b)
        pairs_co = [(positions[a], positions[b], users) for a, partners in co_liked.items() if a in positions
                    for b, users in partners.items() if b in positions and a < b]
        if pairs_co:
            pick = rng.choice(len(pairs_co), size=min(len(pairs_co), 4 * SAMPLES), replace=False)
            a, b, users = (np.array(col, dtype=np.int64) for col in zip(*(pairs_co[k] for k in pick)))
            add(["co_liked"] * len(a), np.array([bucket(u) for u in users.tolist()]), a, b)
        pooled: dict[str, list[float]] = {}
        for (kind, _), (c, e, n) in sums.items():
            entry = pooled.setdefault(kind, [0.0, 0.0, 0])
            entry[0] += c
            entry[1] += e
            entry[2] += n
        ratio = lambda c, e: (c + SMOOTHING) / (e + SMOOTHING)  # noqa: E731 - one formula, two uses
        return cls({key: ratio(c, e) for key, (c, e, n) in sums.items() if n >= MIN_PAIRS},
                   {kind: ratio(c, e) for kind, (c, e, _) in pooled.items()})


def train_positives(model_dir: Path, data, positive: float) -> sparse.csc_matrix:
    """users x items, 1 for each TRAIN interaction (split.npy; all of them for a model without one) whose
    value is a positive."""
    from kgrec.ranking.split import TRAIN

    part_file = Path(model_dir) / "split.npy"
    part = np.load(part_file) if part_file.is_file() else None
    keep = data.ratings >= positive
    if part is not None and len(part) == len(keep):
        keep &= part == TRAIN
    m = sparse.csc_matrix((np.ones(int(keep.sum()), dtype=np.float32), (data.users[keep], data.items[keep])),
                          shape=(data.n_users, data.n_items))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m
