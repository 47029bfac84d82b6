"""Models that score a user from the items in their profile alone (so new users fold in for free):
popularity, item-kNN (cosine) and EASE (Steck 2019, closed-form linear item model)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass
class Popularity:
    """How many training users interacted with each item."""

    counts: np.ndarray

    @classmethod
    def fit(cls, train: sp.csr_matrix) -> "Popularity":
        return cls(np.asarray((train > 0).sum(0)).ravel().astype(np.float32))

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        return np.broadcast_to(self.counts, (history.shape[0], len(self.counts)))


@dataclass
class ItemKNN:
    """Cosine similarity between item columns of the interaction matrix, the ``k`` nearest kept per item."""

    sim: sp.csr_matrix

    @classmethod
    def fit(cls, train: sp.csr_matrix, k: int = 100, shrink: float = 50.0) -> "ItemKNN":
        """``shrink`` damps the similarity of items with few co-raters (cosine overrates them)."""
        x = train.T.tocsr().astype(np.float32)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(1)).ravel())
        sim = (x @ x.T).tocoo()
        keep = sim.row != sim.col
        vals = sim.data[keep] / (norms[sim.row[keep]] * norms[sim.col[keep]] + shrink + 1e-9)
        sim = sp.csr_matrix((vals.astype(np.float32), (sim.row[keep], sim.col[keep])), shape=sim.shape)
        return cls(_keep_top_k(sim, k))

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        return np.asarray((history @ self.sim).todense())


def _keep_top_k(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    rows, cols, vals = [], [], []
    for r in range(m.shape[0]):
        lo, hi = m.indptr[r], m.indptr[r + 1]
        if hi - lo > k:
            keep = lo + np.argpartition(-m.data[lo:hi], k)[:k]
        else:
            keep = np.arange(lo, hi)
        rows.append(np.full(len(keep), r))
        cols.append(m.indices[keep])
        vals.append(m.data[keep])
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=m.shape)


@dataclass
class EASE:
    """B = argmin ||X - XB||² + λ||B||², diag(B) = 0, solved in closed form over the items with at
    least ``min_count`` training interactions (the rest score 0: too rare to learn from, and the
    dense B stays small)."""

    items: np.ndarray  # catalogue indexes covered by B, ascending
    B: np.ndarray      # float32 (len(items), len(items))
    n_items: int

    @classmethod
    def fit(cls, train: sp.csr_matrix, l2: float = 300.0, min_count: int = 2) -> "EASE":
        counts = np.asarray((train > 0).sum(0)).ravel()
        items = np.flatnonzero(counts >= min_count)
        x = (train[:, items] > 0).astype(np.float64)
        gram = (x.T @ x).toarray()
        gram[np.diag_indices_from(gram)] += l2
        p = _spd_inverse(gram)
        b = p / (-np.diag(p))
        b[np.diag_indices_from(b)] = 0.0
        return cls(items, b.astype(np.float32), train.shape[1])

    def score_items(self, profile_items: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """One user's scores from the catalogue indexes they rated (optionally weighted)."""
        pos = np.minimum(np.searchsorted(self.items, profile_items), len(self.items) - 1)
        ok = self.items[pos] == profile_items
        w = np.ones(int(ok.sum()), dtype=np.float32) if weights is None else weights[ok].astype(np.float32)
        # a sparse row times dense B adds up the profile's rows without copying them out first
        x = sp.csr_matrix((w, pos[ok], np.array([0, len(w)])), shape=(1, len(self.items)))
        out = np.zeros(self.n_items, dtype=np.float32)
        out[self.items] = (x @ self.B).ravel()
        return out

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        x = (history[:, self.items] > 0).astype(np.float32)
        out = np.zeros((history.shape[0], self.n_items), dtype=np.float32)
        out[:, self.items] = x @ self.B
        return out


def _spd_inverse(a: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive-definite matrix by Cholesky (a third of LU's work: the EASE grid fits
    seven of these)."""
    from scipy.linalg import lapack

    c, info = lapack.dpotrf(a, lower=False, overwrite_a=False, clean=False)
    if info == 0:
        inv, info = lapack.dpotri(c, lower=False, overwrite_c=True)
    if info != 0:  # not positive definite (cannot happen with l2 > 0): the general inverse
        return np.linalg.inv(a)
    inv = np.triu(inv)
    return inv + np.triu(inv, 1).T
