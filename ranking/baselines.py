"""Baselines a user would pick instead, each tuned on the validation users like the hybrid:
most-popular, item-kNN, implicit's ALS, EASE, and the Neo4j-example collaborative-filtering Cypher."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from kgrec.graph.connection import Graph
from kgrec.ranking.dataset import Dataset
from kgrec.ranking.itemmodels import EASE, ItemKNN
from kgrec.ranking.metrics import EvalSet, ndcg_at_k

Log = Callable[[str], None]

KNN_GRID = ({"k": 50, "shrink": 50.0}, {"k": 200, "shrink": 50.0}, {"k": 50, "shrink": 200.0}, {"k": 200, "shrink": 10.0})
#: implicit ALS on the interaction counts (binary for ratings, play/purchase counts for implicit catalogues):
#: factors x regularisation x confidence alpha (confidence = 1 + alpha * count), 18 fits
ALS_GRID = tuple({"factors": f, "regularization": r, "alpha": a}
                 for f in (64, 128) for r in (0.1, 1.0, 10.0) for a in (1.0, 5.0, 20.0))
#: EASE's L2 weight; its best value grows with the catalogue's interaction counts (Steck 2019 used 200..3000)
EASE_GRID = (50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0)


@dataclass
class ALS:
    """implicit's AlternatingLeastSquares; users are recomputed from their history (fold-in), like
    every other model here, so validation-period ratings count at test time."""

    model: object

    @classmethod
    def fit(cls, train: sp.csr_matrix, factors: int, regularization: float, alpha: float,
            iterations: int = 15, seed: int = 42, threads: int = 2) -> "ALS":
        from implicit.cpu.als import AlternatingLeastSquares

        model = AlternatingLeastSquares(factors=factors, regularization=regularization, alpha=alpha,
                                        iterations=iterations, random_state=seed, num_threads=threads)
        model.fit(train.astype(np.float32).tocsr(), show_progress=False)
        return cls(model)

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        users = self.model.recalculate_user(np.arange(history.shape[0]), history.astype(np.float32).tocsr())
        return np.asarray(users) @ np.asarray(self.model.item_factors).T


def tune(fit: Callable[..., object], grid: tuple[dict, ...], val: EvalSet, log: Log | None = None) -> tuple[object, dict, float]:
    """Fit each grid point, keep the best by validation NDCG@10."""
    best = (None, {}, -1.0)
    for params in grid:
        model = fit(**params)
        score = ndcg_at_k(model.score(val.history[val.users]), val)
        if log:
            log(f"  {params}: val ndcg@10 {score:.4f}")
        if score > best[2]:
            best = (model, params, score)
    return best


def tune_itemknn(train: sp.csr_matrix, val: EvalSet, log: Log | None = None) -> tuple[ItemKNN, dict, float]:
    return tune(lambda **p: ItemKNN.fit(train, **p), KNN_GRID, val, log)  # type: ignore[return-value]


def tune_als(train: sp.csr_matrix, val: EvalSet, seed: int, threads: int, log: Log | None = None) -> tuple[ALS, dict, float]:
    import threadpoolctl

    # implicit parallelises itself; a multithreaded BLAS underneath only oversubscribes the cores
    with threadpoolctl.threadpool_limits(1, "blas"):
        return tune(lambda **p: ALS.fit(train, seed=seed, threads=threads, **p), ALS_GRID, val, log)  # type: ignore[return-value]


def tune_ease(train: sp.csr_matrix, val: EvalSet, min_count: int, grid: tuple[float, ...] = EASE_GRID,
              log: Log | None = None) -> tuple[EASE, dict, float]:
    """EASE's L2 weight by validation NDCG@10 (the tuned EASE is both a baseline and the hybrid's anchor)."""
    return tune(lambda **p: EASE.fit(train, min_count=min_count, **p),  # type: ignore[return-value]
                tuple({"l2": g} for g in grid), val, log)


def user_cutoffs(data: Dataset, history_mask: np.ndarray) -> dict[str, int]:
    """Each user's last history timestamp (as the Cypher parameter map wants: string keys).
    Users with no history get -1, so none of their ratings are visible."""
    last = np.full(data.n_users, -1, dtype=np.int64)
    np.maximum.at(last, data.users[history_mask], data.ts[history_mask])
    return {str(int(u)): int(t) for u, t in zip(data.user_ids, last)}


def cypher_cf_scores(graph: Graph, data: Dataset, users: np.ndarray, cutoffs: dict[str, int],
                     neighbours: int = 50, batch: int = 20) -> np.ndarray:
    """Scores from cypher/train/cypher_cf.cypher (co-rating path counts) for the given user
    indexes; items the query does not reach score 0. Users go to Neo4j in small batches."""
    from kgrec.catalogue.store import active

    interaction = active(graph).signals.relationship
    out = np.zeros((len(users), data.n_items), dtype=np.float32)
    row_of = {int(data.user_ids[u]): n for n, u in enumerate(users)}
    ids = [int(data.user_ids[u]) for u in users]
    for start in range(0, len(ids), batch):
        for rec in graph.read("train/cypher_cf", users=ids[start:start + batch], cutoffs=cutoffs,
                              neighbours=neighbours, interaction=interaction):
            items = np.array(rec["items"], dtype=np.int64)
            pos = np.searchsorted(data.item_ids, items)
            ok = (pos < data.n_items) & (data.item_ids[np.minimum(pos, data.n_items - 1)] == items)
            out[row_of[rec["user"]], pos[ok]] = np.array(rec["scores"], dtype=np.float32)[ok]
    return out
