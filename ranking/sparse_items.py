"""The item-item model of large catalogues: EASE restricted to each item's top-k co-occurring neighbours.

Dense EASE (ranking/itemmodels.py) inverts an items x items Gram matrix: 8·n² bytes twice over (80 GB at 100k
items) and n³ operations. Column j of EASE's B is the ridge regression of item j's column on every other item
(that is what diag(B) = 0 means); here it is regressed on its ``k`` most co-occurring items only, so B is
sparse (n·k entries) and each column costs one k x k solve. Same objective, same λ, same scoring: a profile's
rows of B summed, so serving and explanations use it exactly as they use EASE (``items``, ``n_items``, ``B``
as a scipy CSR matrix; read B through :func:`item_rows` / :func:`item_block`, which take either form).

Which one trains is decided by :func:`fit_item_model` / :func:`tune_item_model`: dense EASE up to ``KGREC_EASE_DENSE_MAX_ITEMS`` items
with enough interactions, this model above.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

#: items solved per batch (a batch holds batch x k x k float64: 2000 x 100² x 8 B = 160 MB)
_BATCH = 2000


@dataclass
class SparseEASE:
    """B restricted to each item's ``k`` neighbours: B[i, j] != 0 only where i is among j's neighbours."""

    items: np.ndarray   # catalogue indexes covered by B, ascending
    B: sp.csr_matrix    # float32 (len(items), len(items)), rows = profile item, columns = scored item
    n_items: int

    @classmethod
    def fit(cls, train: sp.csr_matrix, l2: float = 300.0, min_count: int = 2, k: int = 50) -> "SparseEASE":
        return cls.fit_grid(train, (l2,), min_count, k)[0]

    @classmethod
    def fit_grid(cls, train: sp.csr_matrix, l2s: tuple[float, ...], min_count: int = 2,
                 k: int = 50) -> list["SparseEASE"]:
        """One model per L2 weight: the Gram matrix, the neighbour sets and their k x k systems are built
        once and solved for each weight (what tuning L2 on validation needs)."""
        counts = np.asarray((train > 0).sum(0)).ravel()
        items = np.flatnonzero(counts >= min_count)
        x = (train[:, items] > 0).astype(np.float32).tocsc()
        gram = (x.T @ x).tocsr()  # co-occurrence counts; sparse: pairs of items some user shares
        gram.sort_indices()
        diag = gram.diagonal()
        n = len(items)
        neighbours = _top_neighbours(gram, k)  # (n, k), -1 padded
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[list[np.ndarray]] = [[] for _ in l2s]
        for lo in range(0, n, _BATCH):
            nb = neighbours[lo:lo + _BATCH]
            j = np.arange(lo, lo + len(nb))
            valid = nb >= 0
            safe = np.where(valid, nb, 0)
            # G[N_j, N_j]: the neighbours' co-occurrence among themselves, looked up in the sparse Gram
            a = np.asarray(gram[np.repeat(safe, k, axis=1).ravel(), np.tile(safe, (1, k)).ravel()],
                           dtype=np.float64).reshape(len(nb), k, k)
            a = np.where(valid[:, :, None] & valid[:, None, :], a, 0.0)
            rhs = np.asarray(gram[safe.ravel(), np.repeat(j, k)], dtype=np.float64).reshape(len(nb), k)
            rhs = np.where(valid, rhs, 0.0)
            rows.append(safe[valid])
            cols.append(np.broadcast_to(j[:, None], nb.shape)[valid])
            for out, l2 in zip(vals, l2s):
                # padding rows get the identity and a zero right-hand side: they solve to 0
                a[:, np.arange(k), np.arange(k)] = np.where(valid, diag[safe] + l2, 1.0)
                out.append(np.linalg.solve(a, rhs[:, :, None])[:, :, 0][valid].astype(np.float32))
        r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        return [cls(items, sp.csr_matrix((np.concatenate(v) if v else np.zeros(0, np.float32), (r, c)), shape=(n, n)),
                    train.shape[1]) for v in vals]

    def score_items(self, profile_items: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """One user's scores from the catalogue indexes they rated (optionally weighted)."""
        out = np.zeros(self.n_items, dtype=np.float32)
        pos, ok = _positions(self.items, profile_items)
        if not ok.any():
            return out
        w = np.ones(int(ok.sum()), dtype=np.float32) if weights is None else weights[ok].astype(np.float32)
        x = sp.csr_matrix((w, pos[ok], np.array([0, len(w)])), shape=(1, len(self.items)))
        out[self.items] = (x @ self.B).toarray().ravel()
        return out

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        x = (history[:, self.items] > 0).astype(np.float32)
        out = np.zeros((history.shape[0], self.n_items), dtype=np.float32)
        out[:, self.items] = (x @ self.B).toarray()
        return out


def _positions(items: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(items) == 0:
        return np.zeros(len(wanted), dtype=np.int64), np.zeros(len(wanted), dtype=bool)
    pos = np.minimum(np.searchsorted(items, wanted), len(items) - 1)
    return pos, items[pos] == wanted


def _top_neighbours(gram: sp.csr_matrix, k: int) -> np.ndarray:
    """Per row, the ``k`` columns (other than itself) with the largest co-occurrence, ties to the lower
    index; -1 where a row has fewer."""
    n = gram.shape[0]
    out = np.full((n, k), -1, dtype=np.int64)
    for r in range(n):
        lo, hi = gram.indptr[r], gram.indptr[r + 1]
        cols, vals = gram.indices[lo:hi], gram.data[lo:hi]
        keep = cols != r
        cols, vals = cols[keep], vals[keep]
        if len(cols) > k:
            order = np.lexsort((cols, -vals))[:k]
            cols = cols[order]
        out[r, :len(cols)] = cols
    return out


def kind(model: Any) -> str:
    """"ease" or "sparse_ease", as the manifest records it."""
    return "sparse_ease" if sp.issparse(model.B) else "ease"


def item_rows(model: Any, rows: np.ndarray) -> np.ndarray:
    """Dense rows ``rows`` (positions in ``model.items``) of B, whichever form B has."""
    b = model.B[rows]
    return b.toarray() if sp.issparse(b) else b


def item_block(model: Any, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Dense B[rows][:, cols] (positions in ``model.items``), whichever form B has."""
    if sp.issparse(model.B):
        return model.B[rows][:, cols].toarray()
    return model.B[np.ix_(rows, cols)]


def save(directory: Any, model: Any) -> None:
    """``ease.npz`` (items, n_items) and B beside it as plain ``.npy`` files (dense: ``ease_B.npy``; sparse: its
    CSR arrays), which :func:`load` maps read-only: serving processes of one machine share the pages."""
    np.savez(directory / "ease.npz", items=model.items, n_items=model.n_items)
    for old in directory.glob("ease_B*.npy"):  # the other form's, were the folder written before
        old.unlink()
    if sp.issparse(model.B):
        b = model.B.tocsr()
        for name, arr in (("data", b.data), ("indices", b.indices), ("indptr", b.indptr)):
            np.save(directory / f"ease_B_{name}.npy", arr)
        np.save(directory / "ease_B_shape.npy", np.array(b.shape))
    else:
        np.save(directory / "ease_B.npy", np.ascontiguousarray(model.B))


def load(directory: Any) -> Any:
    """The item model :func:`save` wrote (B memory-mapped read-only), or an older version's ``ease.npz``
    holding a dense B."""
    from kgrec.ranking.itemmodels import EASE

    with np.load(directory / "ease.npz") as z:
        items, n_items = z["items"], int(z["n_items"])
        if "B" in z.files:
            return EASE(items, z["B"], n_items)
    if (directory / "ease_B.npy").exists():
        return EASE(items, np.load(directory / "ease_B.npy", mmap_mode="r"), n_items)
    arrays = [np.load(directory / f"ease_B_{name}.npy", mmap_mode="r") for name in ("data", "indices", "indptr")]
    shape = tuple(int(x) for x in np.load(directory / "ease_B_shape.npy"))
    return SparseEASE(items, sp.csr_matrix(tuple(arrays), shape=shape, copy=False), n_items)


def _covered(train: sp.csr_matrix, min_count: int) -> int:
    return int((np.asarray((train > 0).sum(0)).ravel() >= min_count).sum())


def fit_item_model(train: sp.csr_matrix, l2: float, min_count: int, limits: Any) -> Any:
    """Dense EASE up to ``limits.ease_dense_max_items`` items with ``min_count`` interactions, else SparseEASE
    over each item's ``limits.ease_neighbours`` most co-occurring items (``limits``: Settings or TrainConfig)."""
    from kgrec.ranking.itemmodels import EASE

    if _covered(train, min_count) <= limits.ease_dense_max_items:
        return EASE.fit(train, l2=l2, min_count=min_count)
    return SparseEASE.fit(train, l2=l2, min_count=min_count, k=limits.ease_neighbours)


def tune_item_model(train: sp.csr_matrix, val: Any, min_count: int, grid: tuple[float, ...], limits: Any,
                    log: Any = None) -> tuple[Any, dict, float]:
    """:func:`fit_item_model` with its L2 weight chosen on validation NDCG@10 among ``grid``: dense EASE fitted
    per value, or SparseEASE with its systems built once for the whole grid."""
    from kgrec.ranking.baselines import tune
    from kgrec.ranking.itemmodels import EASE

    covered = _covered(train, min_count)
    if covered <= limits.ease_dense_max_items:
        return tune(lambda l2: EASE.fit(train, l2=l2, min_count=min_count), tuple({"l2": g} for g in grid), val, log)
    if log:
        log(f"  {covered} items > KGREC_EASE_DENSE_MAX_ITEMS={limits.ease_dense_max_items}: sparse EASE over each "
            f"item's {limits.ease_neighbours} most co-occurring items")
    fitted = dict(zip(grid, SparseEASE.fit_grid(train, tuple(grid), min_count, limits.ease_neighbours)))
    return tune(lambda l2: fitted.pop(l2), tuple({"l2": g} for g in grid), val, log)
