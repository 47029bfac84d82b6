"""LightGCN (``torch_geometric.nn.models.LightGCN``) on the user-item graph, trained with BPR.

The graph is a pre-normalised ``torch.sparse`` CSR adjacency (D^-1/2 A D^-1/2): the layers then run
one sparse-dense product each, several times faster on CPU than message passing over ``edge_index``.
Serving folds a user in from their profile (the mean of the profile items' final embeddings), so
only item embeddings are kept.
"""
from __future__ import annotations

from collections.abc import Callable
import warnings
from dataclasses import dataclass

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:  # serving only needs the numpy side; torch loads when training starts
    import torch


@dataclass(frozen=True)
class LightGCNConfig:
    dim: int = 64
    layers: int = 3
    epochs: int = 100
    lr: float = 1e-2
    batch_size: int = 16384
    l2: float = 1e-4
    seed: int = 42


def normalized_adjacency(train: sp.csr_matrix) -> torch.Tensor:
    """The symmetric-normalised (users + items) square adjacency as a torch sparse CSR tensor."""
    import torch

    n_users, n_items = train.shape
    x = (train > 0).astype(np.float32)
    a = sp.bmat([[None, x], [x.T, None]], format="csr")
    deg = np.asarray(a.sum(1)).ravel()
    inv = np.where(deg > 0, 1.0 / np.sqrt(np.maximum(deg, 1e-12)), 0.0).astype(np.float32)
    a = (sp.diags(inv) @ a @ sp.diags(inv)).tocsr().astype(np.float32)
    a.sort_indices()
    with warnings.catch_warnings():  # "sparse CSR support is in beta": it is what makes training fast
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(torch.from_numpy(a.indptr.astype(np.int64)), torch.from_numpy(a.indices.astype(np.int64)),
                                       torch.from_numpy(a.data), size=a.shape)


@dataclass
class LightGCNModel:
    """Final (layer-averaged) item embeddings and, for evaluation with trained users, user embeddings."""

    item_emb: np.ndarray  # float32 (n_items, dim)
    user_emb: np.ndarray  # float32 (n_users, dim)
    #: (n_users + n_items, dim) the trained layer-0 embeddings, users first: what a warm start continues
    #: from (the layer-averaged ones above are their propagation); None in older versions
    base_emb: np.ndarray | None = None

    def fold_in(self, profile_items: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """A user vector from the items they rated: the (weighted) mean of those items' embeddings; a
        negative weight (a skip, a return) pulls the vector away from that item."""
        if len(profile_items) == 0:
            return np.zeros(self.item_emb.shape[1], dtype=np.float32)
        rows = self.item_emb[profile_items]
        if weights is None:
            return rows.mean(0).astype(np.float32)
        return (weights @ rows / max(float(np.abs(weights).sum()), 1e-9)).astype(np.float32)

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        """Scores for each history row (fold-in of the row's items)."""
        x = (history > 0).astype(np.float32)
        counts = np.maximum(np.asarray(x.sum(1)).ravel(), 1)
        users = np.asarray(sp.diags(1.0 / counts) @ x @ self.item_emb)
        return users @ self.item_emb.T


def train_lightgcn(train: sp.csr_matrix, config: LightGCNConfig,
                   progress: Callable[[int, float], None] | None = None,
                   init: tuple[np.ndarray, np.ndarray] | None = None) -> LightGCNModel:
    """BPR with one uniformly sampled negative per training interaction, ``config.epochs`` passes.
    ``init`` (values, mask), users then items: rows to start from (a warm start), the others random."""
    import torch
    from torch_geometric.nn.models import LightGCN

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    n_users, n_items = train.shape
    coo = train.tocoo()
    users, items = coo.row.astype(np.int64), coo.col.astype(np.int64)
    rated = set(zip(users.tolist(), items.tolist()))
    adj = normalized_adjacency(train)
    model = LightGCN(num_nodes=n_users + n_items, embedding_dim=config.dim, num_layers=config.layers,
                     normalize=False)
    if init is not None:
        values, mask = init
        with torch.no_grad():
            model.embedding.weight[torch.from_numpy(mask)] = torch.from_numpy(values[mask].astype(np.float32))
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    for epoch in range(config.epochs):
        perm = rng.permutation(len(users))
        neg = rng.integers(0, n_items, size=len(users))
        # resample the negatives that hit a rated item (a few percent) once; the rest is noise BPR tolerates
        clash = np.fromiter(((u, i) in rated for u, i in zip(users.tolist(), neg.tolist())), bool, len(users))
        neg[clash] = rng.integers(0, n_items, size=int(clash.sum()))
        total = 0.0
        for start in range(0, len(perm), config.batch_size):
            b = perm[start:start + config.batch_size]
            u = torch.from_numpy(users[b])
            p = torch.from_numpy(items[b] + n_users)
            q = torch.from_numpy(neg[b] + n_users)
            emb = model.get_embedding(adj)
            eu = emb[u]
            pos_rank = (eu * emb[p]).sum(-1)
            neg_rank = (eu * emb[q]).sum(-1)
            node_id = torch.cat([u, p, q])
            loss = model.recommendation_loss(pos_rank, neg_rank, node_id=node_id, lambda_reg=config.l2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(b)
        if progress:
            progress(epoch, total / len(perm))
    with torch.no_grad():
        emb = model.get_embedding(adj).numpy()
        base = model.embedding.weight.detach().numpy().astype(np.float32)
    return LightGCNModel(item_emb=emb[n_users:].astype(np.float32), user_emb=emb[:n_users].astype(np.float32),
                         base_emb=base)
