"""One small interface for every term of the blend, looked up by name.

A term scores one **profile** (catalogue indexes of the items a user interacted with, and a weight per
item: recency, dislike, negative signals) over the whole catalogue, and splits a target's score into
per-profile-item shares; it saves to and loads from a model directory. The blend, its ablations, the
evaluation and the explanations loop over :data:`TERMS` through :func:`resolve` instead of branching on
names. Fitting lives in ranking/fitting.py (a tuning run chooses hyper-parameters on validation, the refit
reuses them), which also goes through :func:`resolve`.

The social term is not here: it scores what the user's network liked, not the profile (hybrid.social_scores).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from kgrec.ranking.standard import stat_columns


class Term:
    """A blend term wrapping one trained model (``model``)."""

    name: ClassVar[str]
    #: whether the term's score is a sum over the profile items (so ``contributions`` are exact shares)
    additive: ClassVar[bool] = True
    #: whether the score depends on the profile at all (the popularity prior does not)
    from_profile: ClassVar[bool] = True

    def __init__(self, model: Any):
        self.model = model

    @classmethod
    def fit(cls, ctx: Any) -> "Term":
        """Fitted on a ranking/fitting.py FitContext: hyper-parameters chosen on its validation users (tuning
        run) or taken from its choices (refit)."""
        from kgrec.ranking.fitting import FITTERS

        return cls(FITTERS[cls.name](ctx))

    def score(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Raw (not standardised) scores of every catalogue item for one profile."""
        raise NotImplementedError

    def contributions(self, items: np.ndarray, weights: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(profile item, target) shares of the targets' raw scores: exact for additive terms, the score
        drop when the item leaves the profile for the others."""
        raise NotImplementedError

    def save(self, directory: Path) -> None:
        raise NotImplementedError

    @classmethod
    def load(cls, directory: Path) -> "Term":
        raise NotImplementedError


class EaseTerm(Term):
    name = "ease"

    def score(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return self.model.score_items(items, weights)

    def contributions(self, items: np.ndarray, weights: np.ndarray, targets: np.ndarray) -> np.ndarray:
        from kgrec.ranking.sparse_items import item_block

        e = self.model
        pos = np.minimum(np.searchsorted(e.items, items), len(e.items) - 1)
        cols = np.minimum(np.searchsorted(e.items, targets), len(e.items) - 1)
        rows, col_ok = e.items[pos] == items, e.items[cols] == targets
        vals = np.zeros((len(items), len(targets)))
        if rows.any() and col_ok.any():
            vals[np.ix_(rows, col_ok)] = item_block(e, pos[rows], cols[col_ok]) * weights[rows, None]
        return vals

    def save(self, directory: Path) -> None:
        from kgrec.ranking import sparse_items

        sparse_items.save(directory, self.model)

    @classmethod
    def load(cls, directory: Path) -> "EaseTerm":
        from kgrec.ranking import sparse_items

        return cls(sparse_items.load(directory))


class LightGCNTerm(Term):
    name = "lightgcn"

    def score(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return self.model.targets @ self.model.fold_in(items, weights)

    def contributions(self, items: np.ndarray, weights: np.ndarray, targets: np.ndarray) -> np.ndarray:
        m = self.model
        # fold_in divides by the sum of |weights|: each item's share of the dot product with the target
        return weights[:, None] * (m.queries[items] @ m.targets[targets].T) / max(float(np.abs(weights).sum()), 1e-9)

    def save(self, directory: Path) -> None:
        from kgrec.ranking.modelstore import save_lightgcn

        save_lightgcn(directory, self.model)

    @classmethod
    def load(cls, directory: Path) -> "LightGCNTerm":
        from kgrec.ranking.modelstore import load_lightgcn

        return cls(load_lightgcn(directory))


class KGETerm(Term):
    name = "kge"
    additive = False  # a distance to the profile's query point: shares are leave-one-out drops

    def score(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        # an item without an embedding: the lowest score among the statistics sample's (ranking/standard.py)
        return self.model.score_profile(items, weights, floor=stat_columns(len(self.model.item_known)))

    def contributions(self, items: np.ndarray, weights: np.ndarray, targets: np.ndarray) -> np.ndarray:
        return self.model.leave_one_out(items, weights, targets)

    def save(self, directory: Path) -> None:
        self.model.save(directory / "kge.npz")

    @classmethod
    def load(cls, directory: Path) -> "KGETerm":
        from kgrec.embeddings.kge import KGEModel

        return cls(KGEModel.load(directory / "kge.npz"))


class AttributeTerm(Term):
    name = "kgattr"

    def score(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return self.model.score_profile(items, weights)

    def contributions(self, items: np.ndarray, weights: np.ndarray, targets: np.ndarray) -> np.ndarray:
        m = self.model.matrix
        return weights[:, None] * np.asarray((m[items] @ m[targets].T).todense())

    def save(self, directory: Path) -> None:
        sp.save_npz(directory / "kgattr_matrix.npz", self.model.matrix)
        np.save(directory / "kgattr_idf.npy", self.model.idf)

    @classmethod
    def load(cls, directory: Path) -> "AttributeTerm":
        from kgrec.ranking.kgterm import AttributeModel

        return cls(AttributeModel(sp.load_npz(directory / "kgattr_matrix.npz").tocsr(),
                                  np.load(directory / "kgattr_idf.npy")))


class PopularityTerm(Term):
    """The popularity prior (``model``: interaction counts per item); the same for every profile."""

    name = "popularity"
    from_profile = False

    def score(self, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return np.log1p(self.model)

    def contributions(self, items: np.ndarray, weights: np.ndarray, targets: np.ndarray) -> np.ndarray:
        return np.zeros((len(items), len(targets)))  # no profile item makes an item popular

    def save(self, directory: Path) -> None:
        np.save(directory / "popularity.npy", self.model)

    @classmethod
    def load(cls, directory: Path) -> "PopularityTerm":
        return cls(np.load(directory / "popularity.npy"))


#: every profile term of the blend, in blend order
TERMS: dict[str, type[Term]] = {t.name: t for t in (EaseTerm, LightGCNTerm, KGETerm, AttributeTerm, PopularityTerm)}


def resolve(name: str) -> type[Term]:
    """The term class registered under ``name``."""
    try:
        return TERMS[name]
    except KeyError:
        raise KeyError(f"no blend term {name!r}; known: {', '.join(TERMS)}") from None
