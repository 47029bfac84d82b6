"""The hybrid: a weighted blend of per-user standardised component scores.

Components: EASE (collaborative, item-item), LightGCN (graph collaborative), PyKEEN link
prediction (KG embeddings), the KG attribute term and a popularity prior. Each is z-scored over
the catalogue for the user before blending (its mean and spread estimated on a fixed
sample of the catalogue: ranking/standard.py), so weights compare like with like. Profiles are
weighted by recency (the latest ratings say most about what comes next: the split is temporal)
and liked items (rating >= the positive threshold) count more than the rest.
Weights are tuned by coordinate ascent on the validation users' NDCG@10 only.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from kgrec.embeddings.kge import KGEModel
from kgrec.embeddings.lightgcn import LightGCNModel
from kgrec.ranking.itemmodels import EASE
from kgrec.ranking.kgterm import AttributeModel
from kgrec.ranking.standard import moments, standardize

COMPONENTS = ("ease", "lightgcn", "kge", "kgattr", "popularity")
#: what the user's network likes: a term of its own, scored from the network's positives (not the profile)
SOCIAL = "social"
KG_COMPONENTS = ("kge", "kgattr")


@dataclass(frozen=True)
class BlendParams:
    weights: dict[str, float] = field(default_factory=lambda: {"ease": 1.0, "lightgcn": 0.5, "kge": 0.2,
                                                               "kgattr": 0.2, "popularity": 0.1})
    half_life: float = 0.0      # profile recency half-life in ratings (0 = no recency weighting)
    disliked_weight: float = 1.0  # weight of rated-but-not-liked items relative to liked ones
    negative_weight: float = 1.0  # a negative signal (skip, return, dislike) folds in with minus this weight

    def without(self, names: Iterable[str]) -> "BlendParams":
        return replace(self, weights={k: (0.0 if k in names else v) for k, v in self.weights.items()})


def profile_weights(ratings: np.ndarray, ts: np.ndarray, params: BlendParams, positive_rating: float) -> np.ndarray:
    """One weight per profile item: recency decay (by rank, newest = 1) times the dislike factor; a
    negative signal (value < 0) weighs ``-negative_weight``, so what resembles it is pushed down."""
    w = np.where(ratings >= positive_rating, 1.0,
                 np.where(ratings < 0, -params.negative_weight, params.disliked_weight)).astype(np.float32)
    if params.half_life > 0 and len(ts):
        age = np.empty(len(ts), dtype=np.float32)
        age[np.argsort(-ts, kind="stable")] = np.arange(len(ts), dtype=np.float32)
        w = w * np.power(0.5, age / params.half_life)
    return w


def live(weights: np.ndarray) -> np.ndarray:
    """Which profile items weigh anything: every term is a sum (or a weighted mean) over the profile in
    which a zero-weight item (a disliked one when ``disliked_weight`` is 0) adds exactly nothing, so scoring
    skips it (a long profile's majority, often). All of them when none does, so that such a profile scores
    as before."""
    keep = weights != 0
    return keep if keep.any() else np.ones(len(weights), dtype=bool)


@dataclass
class Components:
    """The trained parts the hybrid blends."""

    ease: EASE
    lightgcn: LightGCNModel
    kge: KGEModel
    kgattr: AttributeModel
    popularity: np.ndarray  # training interaction counts per item

    def term(self, name: str):
        """The named blend term (ranking/components.py) over this run's trained model."""
        from kgrec.ranking.components import resolve

        return resolve(name)(getattr(self, name))

    @classmethod
    def from_terms(cls, terms: dict[str, Any]) -> "Components":
        return cls(**{name: term.model for name, term in terms.items()})

    def score_one(self, items: np.ndarray, weights: np.ndarray, names: Iterable[str] = COMPONENTS,
                  scales: dict[str, float] | None = None) -> dict[str, np.ndarray]:
        """Standardised scores of each named component for one profile (item indexes + weights).
        ``scales``, when given, receives each term's standard deviation (what it was divided by)."""
        out: dict[str, np.ndarray] = {}
        for name in names:
            s = np.asarray(self.term(name).score(items, weights), dtype=np.float32)
            mu, sd = moments(s)  # once for both (standardize and term_scale would each compute them)
            out[name] = (s - mu) / sd
            if scales is not None:
                scales[name] = float(sd.ravel()[0])
        return out

    def contributions(self, items: np.ndarray, weights: np.ndarray, targets: np.ndarray,
                      names: Iterable[str]) -> dict[str, np.ndarray]:
        """Each named term's (profile item, target) shares of the targets' raw scores."""
        return {name: self.term(name).contributions(items, weights, targets) for name in names}


def blend(parts: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    total = None
    for name, w in weights.items():
        if w and name in parts:
            total = parts[name] * w if total is None else total + parts[name] * w
    if total is None:
        return np.zeros_like(next(iter(parts.values())))
    return total


def score_histories(comp: Components, params: BlendParams, history_r: sp.csr_matrix, history_t: sp.csr_matrix,
                    positive_rating: float, names: Iterable[str] = COMPONENTS) -> dict[str, np.ndarray]:
    """Standardised component score matrices for a batch of users' histories (rows)."""
    names = tuple(names)
    stacks: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for r in range(history_r.shape[0]):
        lo, hi = history_r.indptr[r], history_r.indptr[r + 1]
        items = history_r.indices[lo:hi]
        w = profile_weights(history_r.data[lo:hi], history_t.data[lo:hi], params, positive_rating)
        for n, s in comp.score_one(items, w, names).items():
            stacks[n].append(s)
    return {n: np.stack(v) for n, v in stacks.items()}


def tune_weights(parts: dict[str, np.ndarray], objective: Callable[[np.ndarray], float], fixed: dict[str, float],
                 grid: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0), rounds: int = 3,
                 start: dict[str, float] | None = None) -> tuple[dict[str, float], float]:
    """Coordinate ascent: each free weight in turn takes the grid value that maximises ``objective``
    (validation NDCG@10 of the blend); ``fixed`` weights (the anchor, ablated terms) never move. The blend
    without the moving term is summed once per coordinate, so each grid value costs one multiply-add."""
    weights = {n: fixed.get(n, (start or {}).get(n, 0.0)) for n in parts}
    total = blend(parts, weights)
    best = objective(total)
    trial = np.empty_like(total)  # one buffer for every trial blend
    for _ in range(rounds):
        improved = False
        for name in parts:
            if name in fixed:
                continue
            rest = blend(parts, {**weights, name: 0.0})
            for value in grid:
                if value == weights[name]:
                    continue
                np.multiply(parts[name], value, out=trial, casting="unsafe")
                trial += rest
                score = objective(trial)
                if score > best + 1e-6:
                    best, weights, improved = score, {**weights, name: value}, True
        if not improved:
            break
    return weights, best


def social_scores(network: sp.csr_matrix) -> np.ndarray:
    """Standardised social term per row: how many of the user's network liked each item (``network``: users
    x items counts, built from the people each user follows or befriends and their positives)."""
    return standardize(np.asarray(network.todense(), dtype=np.float32))
