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

    # -- user side -----------------------------------------------------------------------------
    def query(self, profile_items: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """The point a user's (user, likes, ?) query lands on, from the items they liked."""
        keep = self.item_known[profile_items]
        items, w = profile_items[keep], (None if weights is None else weights[keep])
        if len(items) == 0:
            return np.zeros(self.item_emb.shape[1], dtype=self.item_emb.dtype)
        rows = self.item_emb[items]
        centroid = rows.mean(0) if w is None else (w @ rows) / max(float(w.sum()), 1e-9)
        if self.model == "ComplEx":
            return centroid * np.abs(self.relation_emb[LIKES]) ** 2
        return centroid

    def score_query(self, q: np.ndarray, items: np.ndarray | None = None) -> np.ndarray:
        """Link-prediction scores of every catalogue item (or ``items``) for a query point."""
        if self.model == "TransE":
            emb = self.item_emb if items is None else self.item_emb[items]
            s = -np.abs(emb - q).sum(1)
        else:
            conj, sq = self._conj_and_sqnorm()
            if items is not None:
                conj, sq = conj[items], sq[items]
            dot = np.real(conj @ q)
            # RotatE: -||q - t|| expanded, so one complex mat-vec does it (serving is per request)
            s = dot if self.model == "ComplEx" else -np.sqrt(np.maximum(sq - 2 * dot + float(np.vdot(q, q).real), 0))
        s = s.astype(np.float32)
        unknown = self._unknown() if items is None else np.flatnonzero(~self.item_known[items])
        if len(unknown) and len(unknown) < len(s):
            s[unknown] = np.delete(s, unknown).min()
        elif len(unknown):
            s[:] = 0.0
        return s

    def _unknown(self) -> np.ndarray:
        if getattr(self, "_unknown_cache", None) is None:
            self._unknown_cache = np.flatnonzero(~self.item_known)
        return self._unknown_cache

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
        queries = sums / np.maximum(total - w, 1e-9)[:, None]
        if self.model == "ComplEx":
            queries = queries * np.abs(self.relation_emb[LIKES]) ** 2
        base = self.score_query(self.query(profile_items, weights), targets)
        e = self.item_emb[targets]
        if self.model == "TransE":
            # a column at a time: the (n, targets, dim) broadcast would cost more than the loop
            without = np.stack([-np.abs(queries - row).sum(1) for row in e], axis=1)
        else:
            cross = np.real(queries @ e.conj().T)
            if self.model == "ComplEx":
                without = cross
            else:  # RotatE: -||q - t||, expanded as in score_query
                sq_q = (np.abs(queries) ** 2).sum(1)[:, None]
                sq_e = (np.abs(e) ** 2).sum(1)[None, :]
                without = -np.sqrt(np.maximum(sq_q + sq_e - 2 * cross, 0))
        out[keep] = base[None, :] - without
        out[:, ~self.item_known[targets]] = 0.0  # a target the model never trained on gets no credit
        return out

    def score_profile(self, profile_items: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return self.score_query(self.query(profile_items, weights))

    def score(self, history) -> np.ndarray:  # scipy csr rows -> (b, n_items)
        return np.stack([self.score_profile(history.indices[history.indptr[r]:history.indptr[r + 1]])
                         for r in range(history.shape[0])])

    # -- item side -----------------------------------------------------------------------------
    def item_from_attributes(self, attrs: np.ndarray, relations: list[str]) -> np.ndarray | None:
        """An embedding for an item known only by its (relation, attribute) facts."""
        parts = []
        for a, rel in zip(attrs, relations):
            if not self.attr_known[a] or rel not in self.relation_emb:
                continue
            r = self.relation_emb[rel]
            if self.model == "TransE":
                parts.append(self.attr_emb[a] - r)
            else:  # rotation / complex product: invert r (|r| = 1 for RotatE)
                parts.append(self.attr_emb[a] * r.conj() / np.maximum(np.abs(r) ** 2, 1e-9))
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
        self.model = cls(triples_factory=self.factory, embedding_dim=config.dim, loss=loss, random_seed=config.seed)
        if init is not None:
            # PyKEEN's first ``train`` resets every parameter: lay the warm rows back over the fresh ones then
            reset = self.model.reset_parameters_

            def reset_then_warm():  # type: ignore[no-untyped-def]
                model = reset()
                self._start_from(*init)
                return model

            self.model.reset_parameters_ = reset_then_warm  # type: ignore[method-assign]
            self._start_from(*init)
        self.loop = SLCWATrainingLoop(model=self.model, triples_factory=self.factory,
                                      optimizer=torch.optim.Adam(self.model.parameters(), lr=config.lr),
                                      negative_sampler_kwargs={"num_negs_per_pos": config.negatives})

    def _start_from(self, entities: np.ndarray, mask: np.ndarray, relations: dict[str, np.ndarray]) -> None:
        import torch

        def stored(values: np.ndarray) -> torch.Tensor:  # complex rows are kept as (re, im) pairs
            t = torch.from_numpy(np.ascontiguousarray(values))
            return torch.view_as_real(t).reshape(len(values), -1) if t.is_complex() else t.float()

        with torch.no_grad():
            ent = self.model.entity_representations[0]._embeddings.weight
            ent[torch.from_numpy(mask)] = stored(entities[mask]).to(ent.dtype)
            rel = self.model.relation_representations[0]._embeddings.weight
            for n, name in enumerate(self.triples.relation_names):
                if name in relations:
                    rel[n] = stored(relations[name][None, :])[0].to(rel.dtype)

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
