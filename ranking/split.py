"""One per-user temporal split shared by every model.

Each user's interactions are ordered by time (ties broken by a seeded shuffle); the last
``test_share`` form the test set, the ``val_share`` before them the validation set, the rest the
training set. Positives (the items a model should find) are ratings >= ``positive_rating``:
MovieLens users rate most of what they watch, and 4+ stars is the usual "liked it" line.
Training uses every training-period rating as an implicit interaction (a watched-and-rated movie
is a signal even when the rating is low); the KG "likes" relation uses positives only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from kgrec.ranking.dataset import Dataset

TRAIN, VAL, TEST = 0, 1, 2
#: evaluation protocols: per-user temporal hold-out (kgrec's default), per-user random 80/10/10 on positives
PROTOCOLS = ("temporal", "random")
#: the random protocol's shares, as RecBole's default ``split: {RS: [0.8, 0.1, 0.1]}``
RANDOM_SHARES = (0.1, 0.1)


@dataclass(frozen=True)
class SplitConfig:
    val_share: float = 0.1
    test_share: float = 0.2
    positive_rating: float = 4.0
    seed: int = 42


@dataclass(frozen=True)
class Split:
    """``part[k]`` says whether interaction k of the dataset is TRAIN, VAL or TEST."""

    config: SplitConfig
    part: np.ndarray  # int8 per interaction

    @classmethod
    def temporal(cls, data: Dataset, config: SplitConfig) -> "Split":
        if not (0 < config.test_share < 1 and 0 <= config.val_share < 1 and config.val_share + config.test_share < 1):
            raise ValueError(f"split shares must be in (0, 1) and sum below 1, got {config}")
        n = len(data.users)
        tiebreak = np.random.default_rng(config.seed).permutation(n)
        order = np.lexsort((tiebreak, data.ts, data.users))  # by user, then time, then seeded tie-break
        users = data.users[order]
        starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
        counts = np.diff(np.r_[starts, n])
        # position of each (sorted) interaction inside its user's history, counted from the end
        from_end = np.repeat(starts + counts, counts) - np.arange(n) - 1
        n_test = np.maximum(np.rint(counts * config.test_share), 1).astype(np.int64)
        n_val = np.rint(counts * config.val_share).astype(np.int64)
        if config.val_share > 0:
            n_val = np.maximum(n_val, 1)
        # users with too few interactions keep at least one for training
        n_test = np.minimum(n_test, np.maximum(counts - 1, 0))
        n_val = np.minimum(n_val, np.maximum(counts - 1 - n_test, 0))
        t = np.repeat(n_test, counts)
        v = np.repeat(n_val, counts)
        part_sorted = np.where(from_end < t, TEST, np.where(from_end < t + v, VAL, TRAIN)).astype(np.int8)
        part = np.empty(n, dtype=np.int8)
        part[order] = part_sorted
        return cls(config, part)

    @classmethod
    def random(cls, data: Dataset, config: SplitConfig) -> "Split":
        """RecBole-style random hold-out: each user's positives (>= ``positive_rating``) shuffled (seeded) and
        cut ``1 - val - test`` / ``val`` / ``test`` (80/10/10 by default for this protocol); what is not a
        positive stays in training (it is history, never a target), and every user keeps one training positive."""
        if not (0 < config.test_share < 1 and 0 <= config.val_share < 1 and config.val_share + config.test_share < 1):
            raise ValueError(f"split shares must be in (0, 1) and sum below 1, got {config}")
        n = len(data.users)
        part = np.full(n, TRAIN, dtype=np.int8)
        positive = np.flatnonzero(data.ratings >= config.positive_rating)
        shuffled = positive[np.random.default_rng(config.seed).permutation(len(positive))]
        order = shuffled[np.argsort(data.users[shuffled], kind="stable")]  # by user, random within
        users = data.users[order]
        starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]]) if len(order) else np.zeros(0, dtype=np.int64)
        counts = np.diff(np.r_[starts, len(order)])
        rank = np.arange(len(order)) - np.repeat(starts, counts)
        n_test = np.minimum(np.rint(counts * config.test_share).astype(np.int64), np.maximum(counts - 1, 0))
        n_val = np.minimum(np.rint(counts * config.val_share).astype(np.int64), np.maximum(counts - 1 - n_test, 0))
        t, v = np.repeat(n_test, counts), np.repeat(n_val, counts)
        part[order] = np.where(rank < t, TEST, np.where(rank < t + v, VAL, TRAIN))
        return cls(config, part)

    @classmethod
    def make(cls, data: Dataset, config: SplitConfig, protocol: str = "temporal") -> "Split":
        """The split of an evaluation protocol: ``temporal`` (per user by time) or ``random`` (RecBole-style)."""
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown evaluation protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
        return cls.temporal(data, config) if protocol == "temporal" else cls.random(data, config)

    def mask(self, *parts: int) -> np.ndarray:
        return np.isin(self.part, parts)

    def matrix(self, data: Dataset, *parts: int, values: str = "ones") -> sp.csr_matrix:
        """users x items matrix of the interactions in ``parts``; values 'ones', 'ratings', 'ts' or 'liked'.
        'ones' (what models train on) leaves negative signals out: a skip or a return is no evidence that
        the user wanted the item; 'ratings' keeps them, so a profile folds them in with negative weight;
        'liked': ones for the positives only (>= positive_rating)."""
        m = self.mask(*parts)
        if values == "ones":
            m = m & (data.ratings >= 0)
        elif values == "liked":
            m = m & (data.ratings >= self.config.positive_rating)
        vals = {"ones": np.ones(m.sum(), dtype=np.float32), "liked": np.ones(m.sum(), dtype=np.float32),
                "ratings": data.ratings[m], "ts": data.ts[m].astype(np.float64)}[values]
        mat = sp.csr_matrix((vals, (data.users[m], data.items[m])), shape=(data.n_users, data.n_items))
        mat.sum_duplicates()
        return mat

    def targets(self, data: Dataset, part: int) -> sp.csr_matrix:
        """users x items, 1 where the user rated the item >= positive_rating in ``part``."""
        m = (self.part == part) & (data.ratings >= self.config.positive_rating)
        t = sp.csr_matrix((np.ones(m.sum(), dtype=np.float32), (data.users[m], data.items[m])),
                          shape=(data.n_users, data.n_items))
        t.sum_duplicates()
        t.data[:] = 1
        return t

    def sizes(self, data: Dataset) -> dict[str, int | float]:
        pos = data.ratings >= self.config.positive_rating
        out: dict[str, int | float] = {
            "users": data.n_users, "items": data.n_items, "interactions": len(data.users),
            "val_share": self.config.val_share, "test_share": self.config.test_share,
            "positive_rating": self.config.positive_rating, "seed": self.config.seed,
        }
        for name, p in (("train", TRAIN), ("val", VAL), ("test", TEST)):
            m = self.part == p
            out[f"{name}_interactions"] = int(m.sum())
            out[f"{name}_positives"] = int((m & pos).sum())
            out[f"{name}_users"] = int(len(np.unique(data.users[m & pos]))) if p != TRAIN else int(len(np.unique(data.users[m])))
        out["kg_facts"] = len(data.fact_items)
        return out
