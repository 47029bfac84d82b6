"""Knowledge-graph embeddings with PyKEEN over the whole graph: user-likes-movie plus every
movie-attribute fact (director, actor, genre, tag, keyword, mention, ...).

A user-movie pair is scored as link prediction (user, likes, movie). Users are folded in from their
profile instead of keeping trained user entities, which is what makes new users and fresh ratings
work without retraining: for the translational/rotational models the query point ``h ∘ r`` (or
``h + r``) that best fits a user's liked items is their centroid; for ComplEx the same centroid
weighted by ``|r|²``. A new item's embedding follows from its attribute neighbours the same way
(``item ∘ r_rel ≈ attr``  =>  ``item ≈ attr ∘ conj(r_rel)``).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

LIKES = "likes"
INTERACTIONS = ("RotatE", "TransE", "ComplEx")


def use_pystow_home(path: Path) -> None:
    """PyKEEN keeps its files under PYSTOW_HOME; set before pykeen is first imported (it would
    otherwise create ~/.data/pykeen)."""
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PYSTOW_HOME"] = str(path)


@dataclass(frozen=True)
class KGEConfig:
    model: str = "RotatE"
    dim: int = 64
    epochs: int = 20
    lr: float = 1e-2
    batch_size: int = 8192
    negatives: int = 4
    seed: int = 42
    min_attr_items: int = 2  # attributes shared by fewer movies carry no signal between movies


@dataclass
class KGEModel:
    """Item, attribute and relation embeddings of one trained interaction model."""

    model: str
    item_emb: np.ndarray        # (n_items, d), complex64 for RotatE/ComplEx, float32 for TransE
    item_known: np.ndarray      # bool: the item took part in training (others score lowest)
    attr_emb: np.ndarray        # (n_attrs, d); rows of unused attributes are zero
    attr_known: np.ndarray      # bool
    relation_emb: dict[str, np.ndarray] = field(default_factory=dict)
    #: (n_users, d) the trained users' rows: serving folds users in from items and never reads them, but a
    #: warm start (ranking/warmstart.py) continues from them; None in versions written before they were kept
    user_emb: np.ndarray | None = None

    @property
    def interaction(self) -> "_Interaction":
        """The scoring rules of this model's interaction (RotatE, TransE or ComplEx), looked up by name once."""
        return _INTERACTIONS[self.model]

    # -- user side -----------------------------------------------------------------------------
    def query(self, profile_items: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """The point a user's (user, likes, ?) query lands on, from the items they liked."""
        keep = self.item_known[profile_items]
        items, w = profile_items[keep], (None if weights is None else weights[keep])
        if len(items) == 0:
            return np.zeros(self.item_emb.shape[1], dtype=self.item_emb.dtype)
        rows = self.item_emb[items]
        centroid = rows.mean(0) if w is None else (w @ rows) / max(float(w.sum()), 1e-9)
        return self.interaction.query(centroid, self.relation_emb[LIKES])

    def score_query(self, q: np.ndarray, items: np.ndarray | None = None,
                    floor: np.ndarray | None = None) -> np.ndarray:
        """Link-prediction scores of every catalogue item (or ``items``) for a query point. An item without an
        embedding gets the lowest score of the known ones among the positions ``floor`` of the result (all of
        them by default; the blend passes its statistics sample, so the floor can be computed without scoring
        the whole catalogue)."""
        s = self.interaction.scores(self, q[None, :], items)[0].astype(np.float32)
        known = self.item_known if items is None else self.item_known[items]
        return self.floor_unknown(s[None, :], known, floor)[0]

    @staticmethod
    def floor_unknown(s: np.ndarray, known: np.ndarray, floor: np.ndarray | None = None) -> np.ndarray:
        """``s`` (rows x columns) with the columns not ``known`` set to each row's lowest known score among
        the columns ``floor`` (all by default; all known ones when none of those is); 0 when none is known."""
        if known.all():
            return s
        among = known if floor is None else np.zeros_like(known)
        if floor is not None:
            among[floor] = known[floor]
            if not among.any():
                among = known
        if among.any():
            s[:, ~known] = s[:, among].min(1)[:, None]
        else:
            s[:] = 0.0
        return s

    def restricted(self, items: np.ndarray) -> "KGEModel":
        """The same model over the catalogue positions ``items`` only (their scores, in that order, come
        from its catalogue scoring, with that scoring's caches)."""
        return KGEModel(self.model, self.item_emb[items], self.item_known[items], self.attr_emb, self.attr_known,
                        self.relation_emb, None)

    def _transposed(self) -> np.ndarray:
        """The item embeddings as dimensions x items (TransE's catalogue scoring)."""
        if getattr(self, "_columns", None) is None:
            self._columns = np.ascontiguousarray(self.item_emb.T)
        return self._columns

    def _conj_and_sqnorm(self) -> tuple[np.ndarray, np.ndarray]:
        if getattr(self, "_cache", None) is None:
            self._cache = (np.ascontiguousarray(self.item_emb.conj()), (np.abs(self.item_emb) ** 2).sum(1))
        return self._cache

    def leave_one_out(self, profile_items: np.ndarray, weights: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(profile item, target) matrix: each target's score minus its score without that profile item
        (0 for items the model does not know): the centroid without item n is (W q - w_n t_n) / (W - w_n),
        all at once for every n and every target."""
        targets = np.asarray(targets, dtype=np.int64)
        out = np.zeros((len(profile_items), len(targets)), dtype=np.float32)
        keep = self.item_known[profile_items]
        if keep.sum() < 2 or not len(targets):
            return out
        t, w = self.item_emb[profile_items[keep]], weights[keep].astype(np.float64)
        total = w.sum()
        sums = (w @ t) - w[:, None] * t
        # summed in float64, scored in the embeddings' own precision (a long profile scores as many queries)
        queries = self.interaction.query((sums / np.maximum(total - w, 1e-9)[:, None]).astype(t.dtype),
                                         self.relation_emb[LIKES])
        base = self.score_query(self.query(profile_items, weights), targets)
        out[keep] = base[None, :] - self.interaction.scores(self, queries, targets)
        out[:, ~self.item_known[targets]] = 0.0  # a target the model never trained on gets no credit
        return out

    def score_profile(self, profile_items: np.ndarray, weights: np.ndarray | None = None,
                      floor: np.ndarray | None = None) -> np.ndarray:
        return self.score_query(self.query(profile_items, weights), floor=floor)

    def score(self, history) -> np.ndarray:  # scipy csr rows -> (b, n_items)
        return np.stack([self.score_profile(history.indices[history.indptr[r]:history.indptr[r + 1]])
                         for r in range(history.shape[0])])

    # -- item side -----------------------------------------------------------------------------
    def item_from_attributes(self, attrs: np.ndarray, relations: list[str]) -> np.ndarray | None:
        """An embedding for an item known only by its (relation, attribute) facts."""
        parts = [self.interaction.head_from_tail(self.attr_emb[a], self.relation_emb[rel])
                 for a, rel in zip(attrs, relations) if self.attr_known[a] and rel in self.relation_emb]
        return np.mean(parts, axis=0).astype(self.item_emb.dtype) if parts else None

    # -- persistence ---------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        users = {} if self.user_emb is None else {"user_emb": self.user_emb}
        np.savez(path, model=np.array(self.model), item_emb=self.item_emb, item_known=self.item_known,
                 attr_emb=self.attr_emb, attr_known=self.attr_known,
                 relation_names=np.array(list(self.relation_emb), dtype=str),
                 relation_emb=np.stack(list(self.relation_emb.values())), **users)

    @classmethod
    def load(cls, path: Path) -> "KGEModel":
        with np.load(path) as z:
            rel = dict(zip(z["relation_names"].tolist(), z["relation_emb"]))
            return cls(str(z["model"]), z["item_emb"], z["item_known"], z["attr_emb"], z["attr_known"], rel,
                       z["user_emb"] if "user_emb" in z.files else None)


class _Interaction:
    """How one interaction model scores (h, r, t): the user's query point from the centroid of their liked
    items, the scores of items for query points, and an item from an attribute it links to."""

    def query(self, centroid: np.ndarray, likes: np.ndarray) -> np.ndarray:
        return centroid  # the point ``h ∘ r`` (``h + r``) that fits every liked ``t`` best: their centroid

    def scores(self, model: KGEModel, queries: np.ndarray, items: np.ndarray | None) -> np.ndarray:
        """(queries, items) scores for the catalogue's items (or ``items``)."""
        raise NotImplementedError

    def head_from_tail(self, tail: np.ndarray, relation: np.ndarray) -> np.ndarray:
        """``h`` from ``h ∘ r ≈ t``: invert the rotation / complex product (|r| = 1 for RotatE)."""
        return tail * relation.conj() / np.maximum(np.abs(relation) ** 2, 1e-9)


class _TransE(_Interaction):
    def scores(self, model: KGEModel, queries: np.ndarray, items: np.ndarray | None) -> np.ndarray:
        emb = model.item_emb if items is None else model.item_emb[items]
        # a loop along the shorter side (the (queries, items, dim) broadcast costs more): a few queries over
        # the catalogue (serving), or a few targets for many queries (leave-one-out shares); the longer side
        # laid out as dimensions x points, so each L1 distance adds up contiguous rows in place (half the
        # time of summing 64-wide rows point by point)
        if len(emb) < len(queries):
            return -_l1(np.ascontiguousarray(queries.T), emb).T
        return -_l1(model._transposed() if items is None else np.ascontiguousarray(emb.T), queries)

    def head_from_tail(self, tail: np.ndarray, relation: np.ndarray) -> np.ndarray:
        return tail - relation


def _l1(columns: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(points, columns) L1 distances of each point to each column of ``columns`` (dimensions x n)."""
    out = np.empty((len(points), columns.shape[1]), dtype=np.result_type(columns, points))
    buf = np.empty(columns.shape, dtype=out.dtype)
    for n, p in enumerate(points):
        np.subtract(columns, p[:, None], out=buf)
        np.abs(buf, out=buf)
        np.sum(buf, axis=0, out=out[n])
    return out


class _ComplEx(_Interaction):
    def query(self, centroid: np.ndarray, likes: np.ndarray) -> np.ndarray:
        return centroid * np.abs(likes) ** 2  # Re<h, r, conj t> is largest along |r|²-weighted centroid

    def scores(self, model: KGEModel, queries: np.ndarray, items: np.ndarray | None) -> np.ndarray:
        conj, _ = model._conj_and_sqnorm()
        return np.real(queries @ (conj if items is None else conj[items]).T)


class _RotatE(_Interaction):
    def scores(self, model: KGEModel, queries: np.ndarray, items: np.ndarray | None) -> np.ndarray:
        conj, sq = model._conj_and_sqnorm()
        if items is not None:
            conj, sq = conj[items], sq[items]
        # -||q - t|| expanded, so one complex product does it (serving is per request)
        dot = np.real(queries @ conj.T)
        sq_q = (np.abs(queries) ** 2).sum(1)[:, None]
        return -np.sqrt(np.maximum(sq[None, :] - 2 * dot + sq_q, 0))


_INTERACTIONS: dict[str, _Interaction] = {"RotatE": _RotatE(), "TransE": _TransE(), "ComplEx": _ComplEx()}


@dataclass(frozen=True)
class Triples:
    """Entities numbered items first, then attributes, then users; relation 0 is ``likes``."""

    heads: np.ndarray
    relations: np.ndarray
    tails: np.ndarray
    relation_names: tuple[str, ...]
    n_items: int
    n_attrs: int
    n_users: int

    @classmethod
    def build(cls, like_users: np.ndarray, like_items: np.ndarray, fact_items: np.ndarray,
              fact_relations: np.ndarray, fact_attrs: np.ndarray, relation_names: tuple[str, ...],
              n_items: int, n_attrs: int, n_users: int, min_attr_items: int) -> "Triples":
        per_attr = np.bincount(fact_attrs, minlength=n_attrs)
        keep = per_attr[fact_attrs] >= min_attr_items
        heads = np.r_[n_items + n_attrs + like_users, fact_items[keep]]
        rels = np.r_[np.zeros(len(like_users), dtype=np.int64), fact_relations[keep] + 1]
        tails = np.r_[like_items, n_items + fact_attrs[keep]]
        triples = np.unique(np.stack([heads, rels, tails], 1).astype(np.int64), axis=0)
        return cls(triples[:, 0], triples[:, 1], triples[:, 2], (LIKES, *relation_names), n_items, n_attrs, n_users)

    @property
    def n_entities(self) -> int:
        return self.n_items + self.n_attrs + self.n_users


class KGETrainer:
    """One PyKEEN model and its sLCWA training loop (uniform negatives); ``train`` can be called
    again to continue, which is how a candidate picked on a short run is trained to the end."""

    def __init__(self, triples: Triples, config: KGEConfig,
                 init: tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]] | None = None):
        """``init`` (entity values, entity mask, relation values by name): a warm start from an
        earlier model's embeddings, laid out as ``triples`` numbers entities; other rows stay random."""
        if config.model not in INTERACTIONS:
            raise ValueError(f"unknown KGE interaction model {config.model!r}; choose one of {INTERACTIONS}")
        if "PYSTOW_HOME" not in os.environ:
            raise RuntimeError("call use_pystow_home() before training (PyKEEN would write to ~/.data)")
        import torch
        from pykeen.losses import NSSALoss, SoftplusLoss
        from pykeen.models import ComplEx, RotatE, TransE
        from pykeen.training import SLCWATrainingLoop
        from pykeen.triples import CoreTriplesFactory

        self.triples, self.config, self.epochs_done = triples, config, 0
        torch.manual_seed(config.seed)
        np.random.seed(config.seed)
        mapped = torch.from_numpy(np.stack([triples.heads, triples.relations, triples.tails], 1))
        self.factory = CoreTriplesFactory(mapped_triples=mapped, num_entities=triples.n_entities,
                                          num_relations=len(triples.relation_names))
        cls = {"RotatE": RotatE, "TransE": TransE, "ComplEx": ComplEx}[config.model]
        # self-adversarial negative sampling loss (Sun et al. 2019) for the distance models
        loss = SoftplusLoss() if config.model == "ComplEx" else NSSALoss(margin=6.0, adversarial_temperature=1.0)
        warm = {} if init is None else _warm_initializers(cls, triples.relation_names, *init)
        self.model = cls(triples_factory=self.factory, embedding_dim=config.dim, loss=loss, random_seed=config.seed,
                         **warm)
        self.loop = SLCWATrainingLoop(model=self.model, triples_factory=self.factory,
                                      optimizer=torch.optim.Adam(self.model.parameters(), lr=config.lr),
                                      negative_sampler_kwargs={"num_negs_per_pos": config.negatives})

    def train(self, epochs: int, progress: Callable[[int, float], None] | None = None) -> None:
        from pykeen.training.callbacks import TrainingCallback

        if epochs <= 0:
            return
        offset = self.epochs_done

        class Report(TrainingCallback):
            def post_epoch(self, epoch: int, epoch_loss: float, **kwargs: object) -> None:
                if progress:
                    progress(epoch - 1, float(epoch_loss))

        self.loop.train(triples_factory=self.factory, num_epochs=offset + epochs, batch_size=self.config.batch_size,
                        use_tqdm=False, use_tqdm_batch=False, callbacks=[Report()], pin_memory=False,
                        continue_training=offset > 0)
        self.epochs_done = offset + epochs

    def export(self) -> KGEModel:
        return _extract(self.model, self.triples, self.config.model)


def _warm_initializers(cls: type, relation_names: tuple[str, ...], entities: np.ndarray, mask: np.ndarray,
                       relations: dict[str, np.ndarray]) -> dict[str, Any]:
    """``entity_initializer`` / ``relation_initializer`` keyword arguments (PyKEEN's public model API) that
    initialise as the model's own defaults do, then lay the inherited rows over them: a warm start. PyKEEN
    calls them on every parameter reset, the one its first ``train`` makes included."""
    import inspect

    from pykeen.nn.init import initializer_resolver

    defaults = inspect.signature(cls.__init__).parameters
    rel_values = np.zeros((len(relation_names), entities.shape[1]), dtype=entities.dtype)
    rel_mask = np.zeros(len(relation_names), dtype=bool)
    for n, name in enumerate(relation_names):
        if name in relations:
            rel_values[n], rel_mask[n] = relations[name], True
    return {f"{kind}_initializer": _Inherit(initializer_resolver.make(defaults[f"{kind}_initializer"].default), values, rows)
            for kind, values, rows in (("entity", entities, mask), ("relation", rel_values, rel_mask))}


class _Inherit:
    """An initializer: ``default`` everywhere, then ``values[mask]`` on those rows (complex rows as PyKEEN
    stores them, (re, im) pairs in a trailing axis)."""

    def __init__(self, default: Callable, values: np.ndarray, mask: np.ndarray):
        self.default, self.values, self.mask = default, values, mask

    def __call__(self, x: Any) -> Any:
        import torch

        x = self.default(x)
        if not self.mask.any():
            return x
        t = torch.from_numpy(np.ascontiguousarray(self.values[self.mask]))
        t = torch.view_as_real(t) if t.is_complex() else t
        x = x.clone()
        x[torch.from_numpy(self.mask)] = t.reshape(int(self.mask.sum()), *x.shape[1:]).to(x.dtype)
        return x


def train_kge(triples: Triples, config: KGEConfig, progress: Callable[[int, float], None] | None = None) -> KGEModel:
    """Train ``config.model`` for ``config.epochs`` on all the triples."""
    trainer = KGETrainer(triples, config)
    trainer.train(config.epochs, progress)
    return trainer.export()


def _extract(model, triples: Triples, name: str) -> KGEModel:
    import torch

    with torch.no_grad():
        ent = model.entity_representations[0](indices=None).detach().cpu().numpy()
        rel = model.relation_representations[0](indices=None).detach().cpu().numpy()
    if ent.dtype == np.complex128:
        ent, rel = ent.astype(np.complex64), rel.astype(np.complex64)
    elif not np.iscomplexobj(ent):
        ent, rel = ent.astype(np.float32), rel.astype(np.float32)
    used = np.zeros(triples.n_entities, dtype=bool)
    used[triples.heads] = True
    used[triples.tails] = True
    n_i, n_a = triples.n_items, triples.n_attrs
    attr_emb = np.where(used[n_i:n_i + n_a, None], ent[n_i:n_i + n_a], 0).astype(ent.dtype)
    return KGEModel(name, ent[:n_i].copy(), used[:n_i].copy(), attr_emb, used[n_i:n_i + n_a].copy(),
                    {r: rel[k].copy() for k, r in enumerate(triples.relation_names)},
                    np.where(used[n_i + n_a:, None], ent[n_i + n_a:], 0).astype(ent.dtype))
