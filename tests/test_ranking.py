"""The split, the metrics and the item models on hand-made data (no training, no server needed)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from kgrec.ranking.dataset import Dataset
from kgrec.ranking.hybrid import BlendParams, blend, profile_weights, standardize, tune_weights
from kgrec.ranking.itemmodels import EASE, ItemKNN, Popularity
from kgrec.ranking.kgterm import AttributeModel
from kgrec.ranking.metrics import EvalSet, bootstrap_ratio, evaluate, ndcg_at_k
from kgrec.ranking.split import TEST, TRAIN, VAL, Split, SplitConfig


def _dataset(n_users: int = 5, per_user: int = 10) -> Dataset:
    rows = []
    for u in range(n_users):
        for k in range(per_user):
            # item ids are not contiguous on purpose; timestamps go back and forth per user
            rows.append((100 + u, 7 * ((u + k) % 12), 3.0 + (k % 3), 1000 * u + (k * 37) % 101))
    facts = [(7 * i, "IN_GENRE", f"Genre:g{i % 3}") for i in range(12)] + [(99999, "IN_GENRE", "Genre:g0")]
    return Dataset.build(rows, [7 * i for i in range(14)], facts)


def test_dataset_maps_ids_contiguously_and_round_trips(tmp_path) -> None:
    data = _dataset()
    assert data.user_ids.tolist() == [100, 101, 102, 103, 104]
    assert data.item_ids.tolist() == [7 * i for i in range(14)]  # unrated catalogue items stay
    assert data.items.max() < data.n_items and data.users.max() < data.n_users
    assert data.item_ids[data.items[0]] == 0
    assert len(data.fact_items) == 12  # the fact about an unknown item is dropped
    data.save(tmp_path)
    again = Dataset.load(tmp_path)
    assert again.attr_keys == data.attr_keys and again.relations == data.relations
    assert np.array_equal(again.items, data.items) and np.array_equal(again.ts, data.ts)


def test_dataset_without_ratings_is_an_error() -> None:
    with pytest.raises(ValueError, match="no interactions"):
        Dataset.build([], [1, 2], [])


def test_split_holds_out_each_users_latest_interactions() -> None:
    data = _dataset(per_user=10)
    split = Split.temporal(data, SplitConfig(val_share=0.1, test_share=0.2, seed=3))
    for u in range(data.n_users):
        mine = data.users == u
        parts = split.part[mine]
        ts = data.ts[mine]
        assert (parts == TEST).sum() == 2 and (parts == VAL).sum() == 1 and (parts == TRAIN).sum() == 7
        assert ts[parts == TEST].min() >= ts[parts == VAL].max() >= ts[parts == TRAIN].max()
    again = Split.temporal(data, SplitConfig(val_share=0.1, test_share=0.2, seed=3))
    assert np.array_equal(again.part, split.part)


def test_split_breaks_timestamp_ties_by_seed_and_keeps_a_training_rating() -> None:
    rows = [(1, i, 5.0, 42) for i in range(10)] + [(2, 0, 5.0, 1)]  # user 2 has a single rating
    data = Dataset.build(rows, [], [])
    parts = {s: Split.temporal(data, SplitConfig(seed=s)).part for s in range(6)}
    assert len({p[:10].tobytes() for p in parts.values()}) > 1
    assert all(p[10] == TRAIN for p in parts.values())


@pytest.mark.parametrize("shares", [(0.5, 0.5), (0.1, 0.0), (-0.1, 0.2), (0.1, 1.2)])
def test_split_rejects_bad_shares(shares) -> None:
    with pytest.raises(ValueError, match="shares"):
        Split.temporal(_dataset(), SplitConfig(val_share=shares[0], test_share=shares[1]))


def _one_user_eval(scores: list[float], targets: list[int], history: list[int]) -> tuple[EvalSet, np.ndarray]:
    n = len(scores)
    hist = sp.csr_matrix((np.ones(len(history)), ([0] * len(history), history)), shape=(1, n))
    tgt = sp.csr_matrix((np.ones(len(targets)), ([0] * len(targets), targets)), shape=(1, n))
    return EvalSet.build(hist, tgt), np.array([scores], dtype=np.float64)


def test_metrics_match_a_hand_computed_ranking() -> None:
    # item 0 is history (excluded); ranking of the rest by score: 3, 1, 4, 2, 5, 6 ...
    scores = [9.0, 8.0, 2.0, 8.5, 7.0, 1.0, 0.5] + [0.0] * 13
    ev, s = _one_user_eval(scores, targets=[1, 5], history=[0])
    res = evaluate(lambda rows: s[rows], ev).summary()
    # hits at ranks 2 and 5 (1-based)
    dcg10 = 1 / math.log2(3) + 1 / math.log2(6)
    idcg = 1 + 1 / math.log2(3)
    assert res["ndcg@10"] == pytest.approx(dcg10 / idcg, abs=1e-5)
    assert res["precision@10"] == pytest.approx(0.2)
    assert res["recall@10"] == pytest.approx(1.0)
    assert res["mrr"] == pytest.approx(0.5)
    # 17 candidate negatives: item 1 beats 16 of them (not item 3); item 5 beats 14 (ties with none)
    assert res["auc"] == pytest.approx((16 + 14) / (2 * 17), abs=1e-5)
    assert ndcg_at_k(s, ev, 10) == pytest.approx(dcg10 / idcg, abs=1e-5)


def test_history_items_are_never_recommended_and_rerated_targets_do_not_count() -> None:
    ev, s = _one_user_eval([5.0, 4.0, 3.0, 0, 0, 0, 0, 0, 0, 0, 0, 0], targets=[0, 2], history=[0])
    res = evaluate(lambda rows: s[rows], ev).summary()
    assert res["precision@10"] == pytest.approx(0.1)  # item 2 only: item 0 is history
    assert res["recall@10"] == pytest.approx(1.0)


@pytest.mark.parametrize("rounding", [None, 0])
def test_tuning_ndcg_agrees_with_the_full_ranking_ties_and_history_included(rounding) -> None:
    # the fast NDCG@10 that blend tuning calls ~100 times must rank as evaluate() does: history out,
    # ties to the lower item index (rounded scores make many ties; a row of zeros is all ties)
    rng = np.random.default_rng(3)
    hist = sp.random(300, 700, density=0.05, format="csr", random_state=4, dtype=np.float32)
    targets = sp.random(300, 700, density=0.01, format="csr", random_state=5, dtype=np.float32)
    ev = EvalSet.build(hist, targets)
    s = rng.standard_normal((len(ev.users), 700)).astype(np.float32)
    t = ev.targets[ev.users].tocoo()
    s[t.row, t.col] += 1.5
    s[0] = 0.0
    if rounding is not None:
        s = np.round(s, rounding)
    full = evaluate(lambda rows: s[np.searchsorted(ev.users, rows)], ev).per_user["ndcg@10"].mean()
    assert full > 0.05
    for chunk in (7, 256):
        assert ndcg_at_k(s, ev, 10, chunk=chunk) == pytest.approx(full, abs=1e-9)


def test_bootstrap_interval_contains_the_ratio() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.random(300) + 0.1, rng.random(300)
    out = bootstrap_ratio(a, b, seed=1)
    assert out["ci95_low"] < out["ratio"] < out["ci95_high"]
    assert out["ratio"] == pytest.approx(a.mean() / b.mean(), abs=1e-4)


def _block_matrix() -> sp.csr_matrix:
    # users 0-3 like items 0-2, users 4-7 like items 3-5; item 6 is popular with everyone
    x = np.zeros((8, 7), dtype=np.float32)
    x[:4, :3] = 1
    x[4:, 3:6] = 1
    x[:, 6] = 1
    return sp.csr_matrix(x)


def test_ease_and_itemknn_recommend_within_the_block() -> None:
    train = _block_matrix()
    profile = sp.csr_matrix(([1.0], ([0], [0])), shape=(1, 7))
    for model in (EASE.fit(train, l2=1.0, min_count=1), ItemKNN.fit(train, k=3, shrink=0.0)):
        s = model.score(profile)[0]
        assert s[1] > s[3] and s[2] > s[4]
    ease = EASE.fit(train, l2=1.0, min_count=1)
    assert np.allclose(np.diag(ease.B), 0)
    assert np.allclose(ease.score_items(np.array([0])), ease.score(profile)[0], atol=1e-5)
    assert Popularity.fit(train).counts.argmax() == 6


def test_ease_leaves_rare_items_out() -> None:
    ease = EASE.fit(_block_matrix()[:5], l2=1.0, min_count=2)  # items 3-5 have one user here
    assert ease.items.tolist() == [0, 1, 2, 6]
    assert ease.score_items(np.array([3, 0]))[3:6].tolist() == [0, 0, 0]


def test_attribute_term_prefers_shared_rare_attributes() -> None:
    # items 0,1 share a rare director; 0,2 share a genre everyone has but item 3
    fact_items = np.array([0, 1, 0, 1, 2, 4])
    fact_attrs = np.array([0, 0, 1, 1, 1, 1])
    m = AttributeModel.fit(5, 2, fact_items, fact_attrs)
    s = m.score_profile(np.array([0]))
    assert s[1] > s[2] > s[3] == 0
    vec = m.item_vector(np.array([0]))
    assert m.score_item(vec, np.array([1])) == pytest.approx(float((m.matrix[1] @ vec.T).toarray()[0, 0]), abs=1e-6)


def test_profile_weights_decay_with_age_and_damp_dislikes() -> None:
    w = profile_weights(np.array([5.0, 2.0, 4.0]), np.array([30, 20, 10]), BlendParams(half_life=1.0, disliked_weight=0.5), 4.0)
    assert w.tolist() == pytest.approx([1.0, 0.25, 0.25])


def test_tuning_finds_the_informative_component() -> None:
    rng = np.random.default_rng(0)
    truth = rng.random((50, 40))
    parts = {"ease": standardize(rng.random((50, 40))), "kge": standardize(truth), "kgattr": standardize(rng.random((50, 40)))}
    target = truth.argmax(1)
    objective = lambda s: float((s.argmax(1) == target).mean())  # noqa: E731
    weights, best = tune_weights(parts, objective, fixed={"ease": 1.0})
    assert weights["ease"] == 1.0 and weights["kge"] >= 1.0
    assert best == objective(blend(parts, weights))  # the score it reports is that of the weights it returns
    # as good as trying every pair of grid values for the two free weights, and far above where it started
    grid = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
    exhaustive = max(objective(blend(parts, {"ease": 1.0, "kge": a, "kgattr": b})) for a in grid for b in grid)
    assert best == exhaustive and best > objective(blend(parts, {"ease": 1.0})) + 0.3
    # an ablated term stays out whatever it would add
    ablated, _ = tune_weights(parts, objective, fixed={"ease": 1.0, "kge": 0.0})
    assert ablated["kge"] == 0.0


@pytest.mark.parametrize("summed", [False, True])
def test_contributions_read_a_column_and_take_exact_values_over_it(summed: bool) -> None:
    from kgrec.explain.trust import Shares
    from kgrec.ranking.recommender import Contributions

    column = np.array([0.5, -0.2, 0.3])
    c = Contributions({10: 0, 20: 1, 30: 2}, column, base_total=0.8 if summed else None)
    assert dict(c) == {10: 0.5, 20: pytest.approx(-0.2), 30: pytest.approx(0.3)}
    assert c.positive_total() == pytest.approx(0.8)
    # the exact drops replace the column's values (and add the removed items outside the profile)
    e = c.with_exact({10: -0.1, 30: 0.6, 40: 0.0})
    assert dict(e) == {10: -0.1, 20: pytest.approx(-0.2), 30: 0.6, 40: 0.0}
    assert len(e) == 4 and 40 in e and 50 not in e and e.get(50) is None
    assert e.positive_total() == pytest.approx(0.6)
    assert dict(c) == {10: 0.5, 20: pytest.approx(-0.2), 30: pytest.approx(0.3)}  # the original is unchanged
    # the shares an explanation reports are the same as from a plain dict of the same values
    for values in (c, e):
        assert Shares(values).total == pytest.approx(Shares(dict(values)).total)
        assert Shares(values).get(30) == pytest.approx(Shares(dict(values)).get(30))
