"""Counterfactual credit: how much a recommended item's served score drops when one profile item is removed.

``Recommender.contributions_many`` splits a score additively with the full profile's scales and recency
weights; removing an item changes both (every older item moves up a recency rank; each term is standardised
over the catalogue again), so an additive share can be positive while the removal would raise the score.
Here the served score is recomputed exactly as ``Recommender.score_profile`` does, for the profile without
each cited item, all removals at once (one matrix per term): the sign is the counterfactual's.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kgrec.embeddings.kge import LIKES
from kgrec.ranking.hybrid import SOCIAL, profile_weights, standardize

Profile = Sequence[tuple[int, float, int]]


def leave_one_out(model: Any, profile: Profile, targets: Sequence[int],
                  removed: Sequence[int]) -> dict[int, dict[int, float]]:
    """{target id: {removed id: served score - served score without that profile item}}, for the targets
    and removed items the model knows (a removed item outside the profile, or unknown to the model, moves
    nothing: 0.0)."""
    targets = [t for t in targets if _position(model, t) >= 0]
    out: dict[int, dict[int, float]] = {t: {r: 0.0 for r in removed} for t in targets}
    if not targets or not removed or not len(profile):
        return out
    ids = np.fromiter((p[0] for p in profile), dtype=np.int64, count=len(profile))
    ratings = np.fromiter((p[1] for p in profile), dtype=np.float32, count=len(profile))
    ts = np.fromiter((p[2] or 0 for p in profile), dtype=np.int64, count=len(profile))
    pos = np.array([_position(model, int(i)) for i in ids], dtype=np.int64)
    known = pos >= 0
    ids, ratings, ts, items = ids[known], ratings[known], ts[known], pos[known]
    where = {int(i): n for n, i in enumerate(ids.tolist())}
    drop = [r for r in dict.fromkeys(removed) if r in where]
    if not drop:
        return out
    target_pos = np.array([_position(model, t) for t in targets], dtype=np.int64)
    network = getattr(profile, "network", None) or {}
    # row 0: the whole profile; row n: without the n-th dropped item (the recency ranks of the rest move up)
    weights = np.zeros((len(drop) + 1, len(items)), dtype=np.float32)
    weights[0] = profile_weights(ratings, ts, model.params, model.positive_rating)
    for row, r in enumerate(drop, start=1):
        keep = np.arange(len(items)) != where[r]
        weights[row, keep] = profile_weights(ratings[keep], ts[keep], model.params, model.positive_rating)
    scores = _scores(model, items, weights, network)[:, target_pos]
    if len(items) == 1:  # without it the profile is empty: the popularity prior alone
        scores[1] = np.asarray(model.score_profile([]), dtype=np.float64)[target_pos]
    for col, t in enumerate(targets):
        for row, r in enumerate(drop, start=1):
            out[t][r] = float(scores[0, col] - scores[row, col])
    return out


def credited(model: Any, profile: Profile, contributions: Mapping[int, Mapping[int, float]],
             candidates: Mapping[int, Sequence[Any]]) -> dict[int, dict[int, float]]:
    """``contributions`` (additive, per item and profile item) with each liked item a candidate cites
    replaced by its exact leave-one-out score drop (``leave_one_out``), so the share an explanation reports
    has the counterfactual's sign; items without contributions (unknown to the model) stay without."""
    cited = sorted({c.liked_id for item in contributions for c in candidates.get(item, ())
                    if c.liked_id is not None})
    drops = leave_one_out(model, profile, list(contributions), cited)
    return {item: {**dict(values), **drops.get(item, {})} for item, values in contributions.items()}


def _scores(model: Any, items: np.ndarray, weights: np.ndarray, network: Mapping[int, int]) -> np.ndarray:
    """The blended score of every catalogue item for each row of ``weights`` over the profile ``items``:
    ``Recommender.score_profile`` for many weight vectors at once."""
    comp, blend_weights = model.components, model.params.weights
    rows = weights.shape[0]
    total = np.zeros((rows, len(model.item_ids)), dtype=np.float32)
    for name, w in blend_weights.items():
        if not w:
            continue
        if name == "ease":
            e = comp.ease
            at = np.minimum(np.searchsorted(e.items, items), len(e.items) - 1)
            ok = e.items[at] == items
            raw = np.zeros((rows, e.n_items), dtype=np.float32)
            if ok.any():
                raw[:, e.items] = weights[:, ok] @ e.B[at[ok]]
        elif name == "lightgcn":
            emb = comp.lightgcn.item_emb
            folded = (weights @ emb[items]) / np.maximum(np.abs(weights).sum(1, keepdims=True), 1e-9)
            raw = folded.astype(np.float32) @ emb.T
        elif name == "kgattr":
            m = comp.kgattr.matrix
            taste = np.asarray((m[items].T @ weights.T.astype(np.float32)))  # attributes x rows
            raw = np.asarray(m @ taste).T
        elif name == "kge":
            raw = _kge_scores(comp.kge, items, weights)
        elif name == "popularity":
            raw = np.broadcast_to(np.log1p(comp.popularity), (rows, len(model.item_ids)))
        elif name == SOCIAL:
            total += w * model.social_term(dict(network))[None, :]
            continue
        else:
            continue  # a weight score_profile has no term for: blend skips it too
        total += w * standardize(raw)
    return total


def _kge_scores(kge: Any, items: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``KGEModel.score_profile`` for each row of ``weights``: the queries as one matrix and, for RotatE and
    ComplEx, the catalogue scored in one complex product (TransE, rarely chosen, a row at a time)."""
    if kge.model == "TransE":
        return np.stack([kge.score_profile(items, w) for w in weights])
    keep = kge.item_known[items]
    if not keep.any():
        return np.stack([kge.score_profile(items, w) for w in weights])
    w = weights[:, keep].astype(np.float64)
    queries = (w @ kge.item_emb[items[keep]]) / np.maximum(w.sum(1), 1e-9)[:, None]
    if kge.model == "ComplEx":
        queries = queries * np.abs(kge.relation_emb[LIKES]) ** 2
    conj, sq = kge._conj_and_sqnorm()
    dot = np.real(conj @ queries.T).T  # rows x items
    if kge.model == "ComplEx":
        s = dot
    else:
        s = -np.sqrt(np.maximum(sq[None, :] - 2 * dot + (np.abs(queries) ** 2).sum(1)[:, None], 0))
    s = s.astype(np.float32)
    unknown = kge._unknown()
    if len(unknown) and len(unknown) < s.shape[1]:
        known = np.ones(s.shape[1], dtype=bool)
        known[unknown] = False
        s[:, unknown] = s[:, known].min(1)[:, None]
    elif len(unknown):
        s[:] = 0.0
    return s


def _position(model: Any, item: int) -> int:
    ids = model.item_ids
    at = int(np.searchsorted(ids, item))
    return at if at < len(ids) and ids[at] == item else -1
