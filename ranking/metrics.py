"""Top-k ranking metrics over the full catalogue minus each user's already-rated items."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

#: the metrics the report shows, in order
REPORTED = ("precision@10", "recall@10", "recall@20", "ndcg@10", "ndcg@20", "mrr", "auc", "coverage@10")
MAX_K = 20


@dataclass(frozen=True)
class EvalSet:
    """Who is evaluated, what they already rated (excluded from ranking) and what they liked next."""

    users: np.ndarray        # user indexes with at least one target
    history: sp.csr_matrix   # all users x items; nonzero = rated before the evaluated period
    targets: sp.csr_matrix   # all users x items; 1 = positive in the evaluated period

    @classmethod
    def build(cls, history: sp.csr_matrix, targets: sp.csr_matrix) -> "EvalSet":
        targets = targets - targets.multiply(history != 0)  # a re-rated item is not a discovery
        targets.eliminate_zeros()
        users = np.flatnonzero(np.diff(targets.indptr) > 0).astype(np.int32)
        return cls(users, history.tocsr(), targets.tocsr())


@dataclass
class Result:
    """Per-user metric arrays (same user order as the EvalSet) plus catalogue coverage."""

    per_user: dict[str, np.ndarray]
    coverage: float
    ndcg_curve: np.ndarray  # mean NDCG@k for k = 1..MAX_K

    def summary(self) -> dict[str, float]:
        out = {k: round(float(v.mean()), 5) for k, v in self.per_user.items()}
        out["coverage@10"] = round(self.coverage, 5)
        return {k: out[k] for k in REPORTED}


ScoreFn = Callable[[np.ndarray], np.ndarray]


def evaluate(score: ScoreFn, evalset: EvalSet, batch_size: int = 256) -> Result:
    """Rank every item for each evaluated user with ``score(user_indexes) -> (b, n_items)`` and
    compute the metrics; items in the user's history are excluded before ranking."""
    n_items = evalset.history.shape[1]
    discount = 1.0 / np.log2(np.arange(2, MAX_K + 2))
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("precision@10", "recall@10", "recall@20", "ndcg@10",
                                                           "ndcg@20", "mrr", "auc")}
    curves: list[np.ndarray] = []
    recommended = np.zeros(n_items, dtype=bool)
    for start in range(0, len(evalset.users), batch_size):
        rows = evalset.users[start:start + batch_size]
        scores = np.asarray(score(rows), dtype=np.float64).copy()
        if scores.shape != (len(rows), n_items):
            raise ValueError(f"score() returned shape {scores.shape}, expected {(len(rows), n_items)}")
        hist = evalset.history[rows]
        scores[np.repeat(np.arange(len(rows)), np.diff(hist.indptr)), hist.indices] = -np.inf
        target = evalset.targets[rows].toarray() > 0
        n_pos = target.sum(1)
        order = np.argsort(-scores, axis=1, kind="stable")
        top = order[:, :MAX_K]
        recommended[top[:, :10].ravel()] = True
        hits = np.take_along_axis(target, top, axis=1)
        # excluded items rank last but must not count; a catalogue smaller than MAX_K pads with misses
        hits &= np.isfinite(np.take_along_axis(scores, top, axis=1))
        hits = np.pad(hits, ((0, 0), (0, MAX_K - hits.shape[1])))
        dcg = np.cumsum(hits * discount, axis=1)
        ideal = np.cumsum(discount)[np.minimum(n_pos[:, None], np.arange(1, MAX_K + 1)) - 1]
        ndcg = dcg / ideal
        curves.append(ndcg)
        cols["precision@10"].append(hits[:, :10].sum(1) / 10)
        cols["recall@10"].append(hits[:, :10].sum(1) / n_pos)
        cols["recall@20"].append(hits[:, :20].sum(1) / n_pos)
        cols["ndcg@10"].append(ndcg[:, 9])
        cols["ndcg@20"].append(ndcg[:, 19])
        ranked_target = np.take_along_axis(target, order, axis=1)
        cols["mrr"].append(1.0 / (ranked_target.argmax(1) + 1))
        cols["auc"].append(_auc(scores, target))
    per_user = {k: np.concatenate(v) if v else np.zeros(0) for k, v in cols.items()}
    curve = np.concatenate(curves).mean(0) if curves else np.zeros(MAX_K)
    return Result(per_user, float(recommended.sum() / n_items), curve)


def _auc(scores: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per user: the chance a random positive outranks a random candidate negative (ties count half)."""
    out = np.empty(len(scores))
    for r in range(len(scores)):
        s = scores[r]
        cand = np.isfinite(s)
        pos = s[target[r] & cand]
        neg = np.sort(s[~target[r] & cand])
        if len(neg) == 0 or len(pos) == 0:
            out[r] = np.nan
            continue
        below = np.searchsorted(neg, pos, side="left")
        ties = np.searchsorted(neg, pos, side="right") - below
        out[r] = (below + 0.5 * ties).sum() / (len(pos) * len(neg))
    return out


def bootstrap_ratio(a: np.ndarray, b: np.ndarray, seed: int, rounds: int = 2000) -> dict[str, float]:
    """mean(a) / mean(b) over the same users, with a 95% percentile interval from resampling users."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(rounds, len(a)))
    ratios = a[idx].mean(1) / np.maximum(b[idx].mean(1), 1e-12)
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    return {"ratio": round(float(a.mean() / max(b.mean(), 1e-12)), 4), "ci95_low": round(float(lo), 4),
            "ci95_high": round(float(hi), 4), "users": int(len(a)), "rounds": rounds}


def ndcg_at_k(scores: np.ndarray, evalset: EvalSet, k: int = 10) -> float:
    """Mean NDCG@k of a precomputed (eval users x items) score matrix; fast enough to tune weights with."""
    s = np.array(scores, dtype=np.float32, copy=True)
    hist = evalset.history[evalset.users]
    s[np.repeat(np.arange(len(evalset.users)), np.diff(hist.indptr)), hist.indices] = -np.inf
    top = np.argpartition(-s, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(s, top, 1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, 1)
    target = evalset.targets[evalset.users]
    hits = np.asarray(target[np.arange(len(top))[:, None], top].todense()) > 0
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    n_pos = np.diff(target.indptr)
    ideal = np.cumsum(discount)[np.minimum(n_pos, k) - 1]
    return float(((hits * discount).sum(1) / ideal).mean())
