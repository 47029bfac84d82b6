"""LightGCN (``torch_geometric.nn.models.LightGCN``) over the knowledge graph: users, items and the items'
attribute nodes (the catalogue schema's attributes: makers, people, genres, tags ...), trained with BPR.

The graph is a pre-normalised ``torch.sparse`` CSR adjacency (D^-1/2 A D^-1/2): the layers then run
one sparse-dense product each, several times faster on CPU than message passing over ``edge_index``.
Attribute nodes carry taste between items that share them, which is what an item with few (or only
recent) interactions has; a share of the item-attribute links are BPR positives too (a KG link loss,
as CKE/KGAT add one), so the attribute nodes learn where they sit. Nodes are numbered users, items,
attributes. Serving folds a user in from their profile (the mean of the profile items' final
embeddings), so only item embeddings are kept. Three scorer settings are chosen on validation after
training: each profile item's fold-in weight 1/deg^a (a=0.5 is the weight LightGCN's normalisation gives a
new user node's neighbours), each scored item's 1/|e|^b (b > 0 damps the items whose long vectors rank them
high for everyone) and the fold-in weight d of a profile item the user did not like (d=0: a user is what they
liked; a 2-star rating is an interaction the graph learns from, not a taste to match). In the blend a
profile's weights are the blend's (ranking/hybrid.py profile_weights); d is LightGCN's when it is scored alone.
"""
from __future__ import annotations

from collections.abc import Callable
import warnings
from dataclasses import dataclass, replace
from functools import cached_property

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:  # serving only needs the numpy side; torch loads when training starts
    import torch


@dataclass(frozen=True)
class LightGCNConfig:
    """With a validation function, training stops early: validation NDCG@10 is measured every ``eval_every``
    epochs; a measurement without a new best multiplies the learning rate by ``lr_decay`` (a high rate finds
    the region fast, lower ones refine it) and training ends after ``patience`` such measurements in a row,
    at ``epochs``, or when ``time_budget_s`` CPU seconds of this process have passed (CPU, not wall-clock
    time: the same epochs on an idle or a busy machine), whichever comes first; the best measured embeddings
    are kept. ``lr_drops``: epochs after which to decay the rate without validation (a refit replays the
    tuning run's schedule)."""

    dim: int = 64
    layers: int = 3
    epochs: int = 2000  # at most: early stopping on validation ends it
    lr: float = 1e-2
    batch_size: int = 16384
    l2: float = 1e-4
    seed: int = 42
    eval_every: int = 10
    patience: int = 4
    lr_decay: float = 0.5
    time_budget_s: float = 420.0
    lr_drops: tuple[int, ...] = ()
    #: the items' attribute nodes join the graph (False: the user-item graph alone)
    attributes: bool = True
    #: with attributes: the share of item-attribute links sampled as BPR positives each epoch, beside every
    #: interaction (0: they only propagate). Measured on MovieLens' temporal split: see docs/models.md
    kg_share: float = 1.0
    #: the scorer's fold-in degree power a and target norm power b (see the module's docstring): with
    #: validation, the best pair of the grids; without (a refit), these values
    fold_degree: float = 0.0
    target_norm: float = 0.0
    disliked_weight: float = 1.0
    fold_degree_grid: tuple[float, ...] = (0.0, 0.25, 0.5)
    target_norm_grid: tuple[float, ...] = (0.0, 0.25, 0.5)
    disliked_weight_grid: tuple[float, ...] = (1.0, 0.25, 0.0)


#: the scorer settings, in LightGCNModel.scaled's order (a, b, d), as the training history names them
SCORER_SETTINGS = ("fold_degree", "target_norm", "disliked_weight")


def normalized_adjacency(train: sp.csr_matrix, attributes: sp.csr_matrix | None = None) -> torch.Tensor:
    """The symmetric-normalised square adjacency of users + items (+ attributes: items x attributes) as a
    torch sparse CSR tensor."""
    import torch

    x = (train > 0).astype(np.float32)
    if attributes is None or attributes.shape[1] == 0:
        a = sp.bmat([[None, x], [x.T, None]], format="csr")
    else:
        f = (attributes > 0).astype(np.float32)
        a = sp.bmat([[None, x, None], [x.T, None, f], [None, f.T, None]], format="csr")
    deg = np.asarray(a.sum(1)).ravel()
    inv = np.where(deg > 0, 1.0 / np.sqrt(np.maximum(deg, 1e-12)), 0.0).astype(np.float32)
    a = (sp.diags(inv) @ a @ sp.diags(inv)).tocsr().astype(np.float32)
    a.sort_indices()
    # int32 indices: what MKL's sparse product takes (int64 ones are converted on every product)
    with warnings.catch_warnings():  # "sparse CSR support is in beta": it is what makes training fast
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(torch.from_numpy(a.indptr.astype(np.int32)), torch.from_numpy(a.indices.astype(np.int32)),
                                       torch.from_numpy(a.data), size=a.shape)


@dataclass
class LightGCNModel:
    """Final (layer-averaged) item embeddings and, for evaluation with trained users, user embeddings."""

    item_emb: np.ndarray  # float32 (n_items, dim)
    user_emb: np.ndarray  # float32 (n_users, dim)
    #: (n_users + n_items, dim) the trained layer-0 embeddings, users first: what a warm start continues
    #: from (the layer-averaged ones above are their propagation); None in older versions
    base_emb: np.ndarray | None = None
    #: how training went (not saved): epochs run, the epoch kept, its validation score, why it stopped
    history: dict | None = None
    #: per item: its weight when a profile is folded in (1/deg^a) and its scale as a scored item (1/|e|^b),
    #: chosen on validation; None (older versions): ones
    query_scale: np.ndarray | None = None
    target_scale: np.ndarray | None = None
    #: scored alone (:meth:`score` with the liked rows), the fold-in weight of a profile item not liked;
    #: None (older versions): 1, every profile item alike
    disliked_weight: float | None = None

    @cached_property
    def queries(self) -> np.ndarray:
        """The item rows a profile is folded in from."""
        return self.item_emb if self.query_scale is None else self.item_emb * self.query_scale[:, None]

    @cached_property
    def targets(self) -> np.ndarray:
        """The item rows a folded-in user is scored against."""
        return self.item_emb if self.target_scale is None else self.item_emb * self.target_scale[:, None]

    def scaled(self, degree: np.ndarray, fold_degree: float, target_norm: float,
               disliked_weight: float = 1.0) -> "LightGCNModel":
        """This model with the scorer settings ``fold_degree`` (a), ``target_norm`` (b) over the items'
        graph degrees ``degree`` and ``disliked_weight`` (d); an item without degree or vector keeps a scale
        of 1."""
        norm = np.linalg.norm(self.item_emb, axis=1)
        query = np.maximum(degree, 1).astype(np.float64) ** -fold_degree
        target = np.where(norm > 0, np.maximum(norm, 1e-12).astype(np.float64) ** -target_norm, 1.0)
        return replace(self, query_scale=query.astype(np.float32), target_scale=target.astype(np.float32),
                       disliked_weight=float(disliked_weight))

    def fold_in(self, profile_items: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """A user vector from the items they rated: the (weighted) mean of those items' embeddings; a
        negative weight (a skip, a return) pulls the vector away from that item."""
        if len(profile_items) == 0:
            return np.zeros(self.item_emb.shape[1], dtype=np.float32)
        rows = self.queries[profile_items]
        if weights is None:
            return rows.mean(0).astype(np.float32)
        return (weights @ rows / max(float(np.abs(weights).sum()), 1e-9)).astype(np.float32)

    def score(self, history: sp.csr_matrix, liked: sp.csr_matrix | None = None) -> np.ndarray:
        """Scores for each history row: the mean of the row's items, those not in ``liked`` (the row's
        positives, when known) weighted ``disliked_weight``; a row with no weight left folds in all its items."""
        x = (history > 0).astype(np.float32)
        d = 1.0 if self.disliked_weight is None else self.disliked_weight
        if liked is not None and d != 1.0:
            like = x.multiply(liked > 0).astype(np.float32)
            weighted = (d * x + (1.0 - d) * like).tocsr()
            empty = np.asarray(weighted.sum(1)).ravel() <= 0
            x = (sp.diags(empty.astype(np.float32)) @ x + weighted).tocsr() if empty.any() else weighted
        counts = np.maximum(np.asarray(x.sum(1)).ravel(), 1e-9)
        users = np.asarray(sp.diags(1.0 / counts) @ x @ self.queries)
        return users @ self.targets.T


def train_lightgcn(train: sp.csr_matrix, config: LightGCNConfig,
                   progress: Callable[[int, float], None] | None = None,
                   init: tuple[np.ndarray, np.ndarray] | None = None,
                   validate: Callable[[LightGCNModel], float] | None = None,
                   attributes: sp.csr_matrix | None = None) -> LightGCNModel:
    """BPR with one uniformly sampled negative item per positive, up to ``config.epochs`` passes; the
    positives are every training interaction plus ``config.kg_share`` of the ``attributes`` links (items x
    attribute nodes, drawn anew each epoch). ``init`` (values, mask), users then items: rows to start from
    (a warm start), the others random. ``validate`` (a model -> validation score): early stopping as
    :class:`LightGCNConfig` says."""
    import time

    import torch
    from torch_geometric.nn.models import LightGCN
    from torch_geometric.nn.models.lightgcn import BPRLoss

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    n_users, n_items = train.shape
    if attributes is not None and attributes.shape[1] == 0:
        attributes = None
    n_attrs = 0 if attributes is None else attributes.shape[1]
    coo = train.tocoo()
    # left end of each positive link (a user, or an attribute node numbered after the items) and its item
    users, items = coo.row.astype(np.int64), coo.col.astype(np.int64)
    links = (attributes > 0).tocoo() if attributes is not None else None
    attr_src = np.empty(0, np.int64) if links is None else links.col.astype(np.int64) + n_users + n_items
    attr_items = np.empty(0, np.int64) if links is None else links.row.astype(np.int64)
    n_links = int(round(config.kg_share * len(attr_src)))
    keys_all = np.concatenate([users * n_items + items, attr_src * n_items + attr_items])
    rated = np.unique(keys_all)  # sorted (left end, item) keys: negatives that hit one are redrawn
    unseen = np.bincount(np.concatenate([items, attr_items]), minlength=n_items) == 0
    adj = normalized_adjacency(train, attributes)
    model = LightGCN(num_nodes=n_users + n_items + n_attrs, embedding_dim=config.dim, num_layers=config.layers,
                     normalize=False)
    if init is not None:
        values, mask = init
        with torch.no_grad():
            rows = torch.from_numpy(np.flatnonzero(mask))
            model.embedding.weight[rows] = torch.from_numpy(values[mask].astype(np.float32))
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    bpr = BPRLoss(lambda_reg=config.l2)
    started, wall = time.process_time(), time.perf_counter()
    best: tuple[float, int, LightGCNModel | None] = (-np.inf, 0, None)
    stale, stopped, epoch, drops = 0, "epochs", -1, []
    for epoch in range(config.epochs):
        if n_links:
            pick = rng.choice(len(attr_src), size=n_links, replace=n_links > len(attr_src))
            left, right = np.concatenate([users, attr_src[pick]]), np.concatenate([items, attr_items[pick]])
        else:
            left, right = users, items
        perm = rng.permutation(len(left))
        neg = rng.integers(0, n_items, size=len(left))
        # resample the negatives that hit a positive (a few percent) once; the rest is noise BPR tolerates
        keys = left * n_items + neg
        clash = rated[np.minimum(np.searchsorted(rated, keys), len(rated) - 1)] == keys
        neg[clash] = rng.integers(0, n_items, size=int(clash.sum()))
        total = 0.0
        for start in range(0, len(perm), config.batch_size):
            b = perm[start:start + config.batch_size]
            u = torch.from_numpy(left[b])
            p = torch.from_numpy(right[b] + n_users)
            q = torch.from_numpy(neg[b] + n_users)
            emb = propagate(model, adj)
            # model.recommendation_loss's BPR, with its rows gathered by one index_select (whose backward
            # is an index_add; emb[u] and friends each scatter into a zeroed full-size gradient, ~30% of a step)
            node_id = torch.cat([u, p, q])
            eu, ep, eq = emb.index_select(0, node_id).split(len(b))
            loss = bpr((eu * ep).sum(-1), (eu * eq).sum(-1), model.embedding.weight.index_select(0, node_id))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(b)
        if progress:
            progress(epoch, total / len(perm))
        if validate is None:
            if epoch + 1 in config.lr_drops:
                _decay(opt, config.lr_decay)
            continue
        out_of_time = time.process_time() - started > config.time_budget_s
        if (epoch + 1) % config.eval_every == 0 or epoch + 1 == config.epochs or out_of_time:
            current = _snapshot(model, adj, n_users, n_items, unseen)
            score = validate(current)
            if score > best[0]:
                best, stale = (score, epoch + 1, current), 0
            else:
                stale += 1
                _decay(opt, config.lr_decay)
                drops.append(epoch + 1)
            if stale >= config.patience:
                stopped = "patience"
                break
        if out_of_time:
            stopped = "time budget"
            break
    result = best[2] if best[2] is not None else _snapshot(model, adj, n_users, n_items, unseen)
    # the graph degree of each item (its users and attribute nodes), as the adjacency normalises by
    degree = np.bincount(np.concatenate([items, attr_items]), minlength=n_items)
    result, fold = _scorer(result, degree, config, validate)
    result.history = {"epochs_run": epoch + 1, "best_epoch": best[1] if best[2] is not None else epoch + 1,
                      "best_val_ndcg@10": None if best[2] is None else round(float(best[0]), 5),
                      "stopped_by": stopped if validate is not None else "epochs",
                      "lr_drops": [d for d in drops if d <= (best[1] if best[2] is not None else epoch + 1)],
                      "seconds": round(time.perf_counter() - wall, 1),
                      "cpu_seconds": round(time.process_time() - started, 1),
                      "attribute_nodes": n_attrs, "attribute_links_per_epoch": n_links, **fold}
    return result


def _scorer(model: LightGCNModel, degree: np.ndarray, config: LightGCNConfig,
            validate: Callable[[LightGCNModel], float] | None) -> tuple[LightGCNModel, dict]:
    """The trained model with its scorer settings: the grid's (a, b, d) best on validation (ties: the
    plainer, listed first), or the configured ones without validation."""
    grid = [(a, b, d) for a in config.fold_degree_grid for b in config.target_norm_grid
            for d in config.disliked_weight_grid]
    if validate is None or len(grid) < 2:
        chosen = (config.fold_degree, config.target_norm, config.disliked_weight)
        return model.scaled(degree, *chosen), dict(zip(SCORER_SETTINGS, chosen))
    scores = {setting: validate(model.scaled(degree, *setting)) for setting in grid}
    best = max(grid, key=lambda setting: scores[setting])
    return model.scaled(degree, *best), {**dict(zip(SCORER_SETTINGS, best)), "scorer_val_ndcg@10": {
        ",".join(f"{x:g}" for x in setting): round(v, 5) for setting, v in scores.items()}}


def propagate(model, adj: torch.Tensor) -> torch.Tensor:
    """``model.get_embedding(adj)`` (the layer-weighted sum of the propagated embeddings), with a backward
    pass that uses the adjacency's symmetry: the gradient through ``A @ x`` is ``A @ grad``, where torch's
    sparse CSR backward transposes A on every step (12x the forward's cost, measured on MovieLens)."""
    x = model.embedding.weight
    alpha = model.alpha
    uniform = bool((alpha == alpha[0]).all())  # LightGCN's default 1/(layers+1): sum, then scale once
    out = x if uniform else x * alpha[0]
    for layer in range(model.num_layers):
        x = _SymmetricSpmm.apply(adj, x)
        out = out + (x if uniform else x * alpha[layer + 1])
    return out * alpha[0] if uniform else out


def _symmetric_spmm():
    import torch

    class SymmetricSpmm(torch.autograd.Function):
        @staticmethod
        def forward(ctx, adj, x):  # type: ignore[override]
            ctx.adj = adj
            return torch.sparse.mm(adj, x)

        @staticmethod
        def backward(ctx, grad):  # type: ignore[override]
            return None, torch.sparse.mm(ctx.adj, grad)

    return SymmetricSpmm


class _LazySpmm:
    """The autograd function, built on first use (serving never imports torch)."""

    fn = None

    @classmethod
    def apply(cls, adj, x):
        if cls.fn is None:
            cls.fn = _symmetric_spmm()
        return cls.fn.apply(adj, x)


_SymmetricSpmm = _LazySpmm


def _decay(opt, factor: float) -> None:
    for group in opt.param_groups:
        group["lr"] *= factor


def _snapshot(model, adj, n_users: int, n_items: int, unseen: np.ndarray) -> LightGCNModel:
    """The model's user and item embeddings (attribute nodes only shape them); items without a training
    interaction or attribute get a zero row: LightGCN has no evidence about them (uniform negative sampling
    only pushed them away from everyone), so they score 0 for every profile and the other terms decide.
    ``base_emb`` keeps the users' and items' layer-0 rows (what a warm start continues from)."""
    import torch

    with torch.no_grad():
        emb = propagate(model, adj).numpy()[:n_users + n_items].copy()
        emb[n_users + np.flatnonzero(unseen)] = 0.0
        base = model.embedding.weight.detach().numpy()[:n_users + n_items].astype(np.float32).copy()
    return LightGCNModel(item_emb=emb[n_users:].astype(np.float32), user_emb=emb[:n_users].astype(np.float32),
                         base_emb=base)
