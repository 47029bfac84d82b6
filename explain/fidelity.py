"""Counterfactual credit: how much a recommended item's served score drops when one profile item is removed.

``Recommender.contributions_many`` splits a score additively with the full profile's scales and recency
weights; removing an item changes both (every older item moves up a recency rank; each term is standardised
over the catalogue again), so an additive share can be positive while the removal would raise the score.
Here the served score is recomputed exactly as ``Recommender.score_profile`` does, for the profile without
each cited item: the sign is the counterfactual's. Every term but PyKEEN's distance is linear in the profile
weights, and a removal only zeroes one item's weight and scales the older ones' (their recency rank moves
up), so each term is computed once per group of items and the removals are combinations of the groups:
the cost grows with the profile plus the removals, not with their product.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from kgrec.embeddings.kge import LIKES
from kgrec.ranking.hybrid import SOCIAL, live, profile_weights
from kgrec.ranking.recommender import Contributions, profile_arrays
from kgrec.ranking.standard import sample_of, standardize

Profile = Sequence[tuple[int, float, int]]


def leave_one_out(model: Any, profile: Profile, targets: Sequence[int],
                  removed: Sequence[int]) -> dict[int, dict[int, float]]:
    """{target id: {removed id: served score - served score without that profile item}}, for the targets
    and removed items the model knows (a removed item outside the profile, or unknown to the model, moves
    nothing: 0.0)."""
    targets = [t for t, at in zip(targets, _positions(model, targets).tolist()) if at >= 0]
    out: dict[int, dict[int, float]] = {t: {r: 0.0 for r in removed} for t in targets}
    if not targets or not removed or not len(profile):
        return out
    ids, ratings, ts = profile_arrays(profile)
    pos = _positions(model, ids)
    known = pos >= 0
    ids, ratings, ts, items = ids[known], ratings[known], ts[known], pos[known]
    where = {int(i): n for n, i in enumerate(ids.tolist())}
    drop = [r for r in dict.fromkeys(removed) if r in where]
    if not drop:
        return out
    target_pos = _positions(model, targets)
    network = getattr(profile, "network", None) or {}
    groups, coef = _removals(ts, [where[r] for r in drop], model.params.half_life)
    weights = profile_weights(ratings, ts, model.params, model.positive_rating)
    # only the statistics sample (what every term is standardised by) and the targets are scored
    sample = sample_of(len(model.item_ids))
    # zero-weight items add nothing to any removal's terms (the recency ranks above count them still)
    keep = live(weights)
    scores = _scores(model, items[keep], weights[keep], groups[keep], coef, network,
                     np.concatenate([sample, target_pos]), len(sample))[:, len(sample):]
    if len(items) == 1:  # without it the profile is empty: the popularity prior alone
        scores[1] = np.asarray(model.score_profile([]), dtype=np.float64)[target_pos]
    for col, t in enumerate(targets):
        for row, r in enumerate(drop, start=1):
            out[t][r] = float(scores[0, col] - scores[row, col])
    return out


def credited(model: Any, profile: Profile, contributions: Mapping[int, Contributions],
             candidates: Mapping[int, Sequence[Any]],
             drops: Mapping[int, Mapping[int, float]] | None = None) -> dict[int, Contributions]:
    """``contributions`` (additive, per item and profile item) with each liked item a candidate cites
    replaced by its exact leave-one-out score drop (``leave_one_out``), so the share an explanation reports
    has the counterfactual's sign; items without contributions (unknown to the model) stay without.
    ``drops``: ``leave_one_out``'s result for liked items computed already (those the chosen paths cite,
    while Neo4j reads them); only the others are computed here. (Crediting only the liked items the
    additive shares would choose, then the ones the exact drops change the choice to, computed as many
    removals in all on MovieLens: the choice moves.)"""
    drops = {item: dict(values) for item, values in (drops or {}).items()}
    done = set().union(*(values.keys() for values in drops.values())) if drops else set()
    cited = sorted({c.liked_id for item in contributions for c in candidates.get(item, ())
                    if c.liked_id is not None} - done)
    if cited:
        for item, values in leave_one_out(model, profile, list(contributions), cited).items():
            drops.setdefault(item, {}).update(values)
    return {item: values.with_exact(drops.get(item, {})) for item, values in contributions.items()}


def _removals(ts: np.ndarray, dropped: Sequence[int], half_life: float) -> tuple[np.ndarray, np.ndarray]:
    """The profile's weight vectors with each dropped item removed, factored so that every term is scored
    once per group of items instead of once per removal: (group of each profile item, rows x groups
    coefficients). Row 0 is the whole profile; row n drops the n-th item: its group gets 0, and the items
    older than it move up one recency rank, which multiplies their weight by 2^(1/half_life)."""
    age = np.empty(len(ts), dtype=np.int64)
    age[np.argsort(-ts, kind="stable")] = np.arange(len(ts))  # the rank profile_weights decays by
    dropped_ages = np.sort(age[list(dropped)])
    n = len(dropped)
    # groups 0..n: the kept items by how many dropped ones are newer; n+1+q: the q-th newest dropped item
    groups = np.searchsorted(dropped_ages, age)
    groups[list(dropped)] = n + 1 + np.searchsorted(dropped_ages, age[list(dropped)])
    older = 2.0 ** (1.0 / half_life) if half_life > 0 else 1.0
    coef = np.ones((n + 1, 2 * n + 1), dtype=np.float64)
    for row, d in enumerate(dropped, start=1):
        q = int(np.searchsorted(dropped_ages, age[d]))
        coef[row, q + 1:n + 1] = older         # kept items older than the dropped one
        coef[row, n + 1 + q] = 0.0             # the dropped item itself
        coef[row, n + 2 + q:] = older          # dropped items older than it (they stay in this row)
    return groups, coef


def _scores(model: Any, items: np.ndarray, weights: np.ndarray, groups: np.ndarray, coef: np.ndarray,
            network: Mapping[int, int], cols: np.ndarray, n_stat: int) -> np.ndarray:
    """The blended score of the catalogue positions ``cols`` for each row of ``coef``:
    ``Recommender.score_profile`` of the profile ``items`` weighted ``coef[row, groups] * weights``, where
    each term is standardised by the statistics of its first ``n_stat`` columns (the sample
    ranking/standard.py reads). The linear terms (EASE, LightGCN's and PyKEEN's fold-in, the attribute
    term) are summed per group once, then combined per row."""
    comp, blend_weights = model.components, model.params.weights
    rows, n_groups = coef.shape
    by_group = sp.csr_matrix((weights.astype(np.float64), (groups, np.arange(len(items)))),
                             shape=(n_groups, len(items)))
    total = np.zeros((rows, len(cols)), dtype=np.float32)
    for name, w in blend_weights.items():
        if not w:
            continue
        if name == "ease":
            raw = _ease_scores(comp.ease, items, weights, groups, coef, cols, n_stat)
        elif name == "lightgcn":
            lg = comp.lightgcn
            folded = coef @ (by_group @ lg.queries[items]) / np.maximum(coef @ abs(by_group).sum(1).A1, 1e-9)[:, None]
            folded = folded.astype(np.float32)
            raw = np.concatenate([folded @ _lightgcn_sample(lg, cols[:n_stat]).T, folded @ lg.targets[cols[n_stat:]].T],
                                 axis=1)
        elif name == "kgattr":
            raw = coef @ _attr_scores(comp.kgattr, items, by_group, cols, n_stat)
        elif name == "kge":
            raw = _kge_scores(comp.kge, items, by_group, coef, cols, n_stat)
        elif name == "popularity":
            raw = np.broadcast_to(np.log1p(comp.popularity[cols]), (rows, len(cols)))
        elif name == SOCIAL:
            total += w * model.social_term(dict(network))[None, cols]  # standardised over the catalogue already
            continue
        else:
            continue  # a weight score_profile has no term for: blend skips it too
        raw = np.asarray(raw, dtype=np.float32)
        total += w * standardize(raw, raw[:, :n_stat])
    return total


def _attr_scores(kgattr: Any, items: np.ndarray, by_group: sp.csr_matrix, cols: np.ndarray,
                 n_stat: int) -> np.ndarray:
    """The attribute term's raw scores of the positions ``cols`` per group of profile items (groups x cols).
    The sample's part reads the held item x sample similarities when the catalogue is small enough to hold
    them; else sparse products (a dense attributes x groups taste would be MBs)."""
    m = kgattr.matrix
    taste = (by_group @ m[items]).T.tocsr()  # attributes x groups, sparse: a profile has few attributes
    targets = (m[cols[n_stat:]] @ taste).toarray().T
    held = _attr_similarity(kgattr, cols[:n_stat])
    if held is None:
        sample = (_attr_sample(kgattr, cols[:n_stat]) @ taste).toarray().T
    else:  # the groups' rows of the similarities, summed by a sparse product over the whole catalogue
        sample = _spread(by_group.astype(np.float32), items, len(held)) @ held  # float32: no 40 MB upcast
    return np.concatenate([np.asarray(sample), targets], axis=1)


def _spread(by_group: sp.csr_matrix, items: np.ndarray, n: int) -> sp.csr_matrix:
    """``by_group`` (groups x profile items) with its columns moved to the items' catalogue positions out of
    ``n``: its product with a held (catalogue x sample) matrix sums the profile's rows without gathering
    them."""
    coo = by_group.tocoo()
    return sp.csr_matrix((coo.data, (coo.row, items[coo.col])), shape=(by_group.shape[0], n))


def _ease_scores(e: Any, items: np.ndarray, weights: np.ndarray, groups: np.ndarray, coef: np.ndarray,
                 cols: np.ndarray, n_stat: int) -> np.ndarray:
    """EASE's raw scores of the positions ``cols`` (the statistics sample's ``n_stat``, then the targets) for
    each row: the profile's rows of B (only those columns), summed per group, combined per row; 0 where EASE
    does not know the item (as in its scoring)."""
    from kgrec.ranking.sparse_items import item_block

    rows, n_groups = coef.shape
    at, ok = _ease_positions(e, items)
    col_at, col_ok = _ease_positions(e, cols)
    raw = np.zeros((rows, len(cols)), dtype=np.float32)
    if not ok.any() or not col_ok.any():
        return raw
    by_group = sp.csr_matrix((weights[ok].astype(np.float32), (groups[ok], np.arange(int(ok.sum())))),
                             shape=(n_groups, int(ok.sum())))
    sample_ok, target_ok = col_ok[:n_stat], col_ok[n_stat:]
    n_sample = int(sample_ok.sum())
    sample_cols = col_at[:n_stat][sample_ok]
    per_group = np.empty((n_groups, int(col_ok.sum())), dtype=np.float32)
    if sp.issparse(e.B):
        per_group[:, :n_sample] = by_group @ item_block(e, at[ok], sample_cols)
    else:  # B's held sample columns, the profile's rows summed per group without gathering them
        held = _ease_sample(e, sample_cols)
        per_group[:, :n_sample] = _spread(by_group, at[ok], len(held)) @ held
    per_group[:, n_sample:] = by_group @ item_block(e, at[ok], col_at[n_stat:][target_ok])
    raw[:, col_ok] = coef.astype(np.float32) @ per_group
    return raw


def _ease_positions(e: Any, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each catalogue position's index in EASE's B, and whether EASE knows it."""
    at = np.minimum(np.searchsorted(e.items, positions), len(e.items) - 1)
    return at, e.items[at] == positions


def prepare(model: Any) -> None:
    """At model load, what the exact credit reads on every request: each term's statistics-sample columns
    (below) and LightGCN's scaled item rows."""
    sample = sample_of(len(model.item_ids))
    comp = model.components
    e = comp.ease
    if len(e.items) and not sp.issparse(e.B):
        at, ok = _ease_positions(e, sample)
        _ease_sample(e, at[ok])
    if comp.kgattr is not None and _attr_similarity(comp.kgattr, sample) is None:
        _attr_sample(comp.kgattr, sample)
    if comp.kge is not None:
        _kge_sample(comp.kge, sample)
    if getattr(comp, "lightgcn", None) is not None:  # its scaled item rows (cached properties), built once here
        _ = comp.lightgcn.queries
        _lightgcn_sample(comp.lightgcn, sample)


def _ease_sample(e: Any, columns: np.ndarray) -> np.ndarray:
    """A dense B's columns ``columns`` (EASE positions of the statistics sample)."""
    return _held(e, "_sample_columns", columns, lambda c: np.ascontiguousarray(np.asarray(e.B)[:, c]))


def _attr_sample(kgattr: Any, sample: np.ndarray) -> sp.csr_matrix:
    """The attribute matrix's rows of the statistics sample."""
    return _held(kgattr, "_sample_rows", sample, lambda c: kgattr.matrix[c])


#: up to this many items the attribute term's item x sample similarities are held (4 B x items x 1,024:
#: 64 MB at this size); above, each request multiplies the sparse attribute rows instead
HELD_SIMILARITY_MAX_ITEMS = 16_384


def _attr_similarity(kgattr: Any, sample: np.ndarray) -> np.ndarray | None:
    """The attribute term's item x sample similarities (its dot products), dense float32, or None for a
    catalogue above HELD_SIMILARITY_MAX_ITEMS."""
    m = kgattr.matrix
    if m.shape[0] > HELD_SIMILARITY_MAX_ITEMS:
        return None
    return _held(kgattr, "_sample_similarity", sample,
                 lambda c: np.ascontiguousarray((m @ m[c].T).toarray(), dtype=np.float32))


def _lightgcn_sample(lg: Any, sample: np.ndarray) -> np.ndarray:
    """LightGCN's scaled target rows of the statistics sample."""
    return _held(lg, "_sample_targets", sample, lambda c: np.ascontiguousarray(lg.targets[c]))


def _kge_sample(kge: Any, sample: np.ndarray) -> Any:
    """The KG embeddings restricted to the statistics sample's items."""
    return _held(kge, "_sample_view", sample, kge.restricted)


def _held(owner: Any, name: str, columns: np.ndarray, build: Any) -> Any:
    """``build(columns)``, kept on ``owner`` (a model term) under ``name`` while the columns stay the same: a
    term's statistics-sample part, copied out once per model instead of gathered on every request. EASE's
    dense B: B[:, sample] (4 B x items x 1,024; gathering whole rows of it beats scattered cells of B; a
    sparse B, a large catalogue, is sliced per request instead); the attribute matrix's sample rows; the
    KG embeddings' sample items."""
    held = getattr(owner, name, None)
    if held is None or not np.array_equal(held[0], columns):
        held = (np.array(columns), build(columns))
        setattr(owner, name, held)  # per process, as the model's other serving caches
    return held[1]


def _kge_scores(kge: Any, items: np.ndarray, by_group: sp.csr_matrix, coef: np.ndarray, cols: np.ndarray,
                n_stat: int) -> np.ndarray:
    """``KGEModel.score_profile`` of the positions ``cols`` for each row (an item without an embedding: the
    row's lowest known score among the first ``n_stat`` columns, as the blend floors it): the fold-in
    centroids from the group sums, then every row's query scored by the model's interaction."""
    keep = kge.item_known[items]
    known = kge.item_known[cols]
    if not keep.any():
        base = kge.score_query(kge.query(items[:0]), cols, floor=np.arange(n_stat))
        return np.repeat(base[None, :], len(coef), axis=0)
    sub = by_group[:, np.flatnonzero(keep)]
    centroids = (coef @ (sub @ kge.item_emb[items[keep]])) / np.maximum(coef @ sub.sum(1).A1, 1e-9)[:, None]
    queries = kge.interaction.query(centroids.astype(kge.item_emb.dtype), kge.relation_emb[LIKES])
    sample = _kge_sample(kge, cols[:n_stat])
    s = np.concatenate([kge.interaction.scores(sample, queries, None),
                        kge.interaction.scores(kge, queries, cols[n_stat:])], axis=1).astype(np.float32)
    return kge.floor_unknown(s, known, np.arange(n_stat))


def _positions(model: Any, items: Sequence[int] | np.ndarray) -> np.ndarray:
    """The catalogue position of each item id, -1 for an id the model does not know."""
    ids = model.item_ids
    items = np.asarray(items, dtype=np.int64)
    if not len(ids) or not len(items):
        return np.full(len(items), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(ids, items), len(ids) - 1)
    return np.where(ids[at] == items, at, -1).astype(np.int64)
