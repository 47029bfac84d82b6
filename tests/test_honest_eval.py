"""Issue 19 on hand-made data (no server): the random protocol's split, interaction-derived facts kept to
the training period, components that must earn their place in the blend, LightGCN's early stopping and
the refit's epochs."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from kgrec.ranking.dataset import Dataset
from kgrec.ranking.split import TEST, TRAIN, VAL, Split, SplitConfig


def _ratings(n_users: int = 6, per_user: int = 30) -> Dataset:
    rows = []
    for u in range(n_users):
        for k in range(per_user):
            rows.append((u + 1, 10 * ((u * 7 + k) % 50), 5.0 if k % 3 else 2.0, 1000 + 10 * k))
    return Dataset.build(rows, [], [])


def test_random_protocol_splits_each_users_positives_80_10_10() -> None:
    data = _ratings()
    config = SplitConfig(val_share=0.1, test_share=0.1, seed=5)
    split = Split.make(data, config, "random")
    positive = data.ratings >= config.positive_rating
    assert (split.part[~positive] == TRAIN).all()  # what is not a positive is history, never a target
    for u in range(data.n_users):
        mine = (data.users == u) & positive
        n = int(mine.sum())
        assert (split.part[mine] == TEST).sum() == round(0.1 * n) and (split.part[mine] == VAL).sum() == round(0.1 * n)
    # random, not the latest: some test positives are older than some training ones
    assert any(data.ts[(data.users == u) & (split.part == TEST)].min()
               < data.ts[(data.users == u) & (split.part == TRAIN)].max() for u in range(data.n_users))
    assert np.array_equal(Split.make(data, config, "random").part, split.part)
    assert not np.array_equal(Split.make(data, SplitConfig(val_share=0.1, test_share=0.1, seed=6), "random").part,
                              split.part)
    with pytest.raises(ValueError, match="protocol"):
        Split.make(data, config, "leave-one-out")


def test_tags_from_held_out_periods_are_not_facts_of_the_evaluated_run() -> None:
    from kgrec.ranking.leakage import TagSources, training_facts, with_facts

    # user 1 rated item 100 early (training) and item 200 late (test); user 2 only rated item 100 early
    rows = [(1, 100, 5.0, 10), (1, 300, 5.0, 20), (1, 400, 5.0, 30), (1, 200, 5.0, 90),
            (2, 100, 5.0, 10), (2, 300, 4.0, 15), (2, 400, 4.0, 16)]
    facts = [(100, "HAS_TAG", "Tag:noir"), (200, "HAS_TAG", "Tag:noir"), (200, "HAS_TAG", "Tag:heist"),
             (200, "MENTIONS", "Person:7"), (200, "IN_GENRE", "Genre:Crime")]
    data = Dataset.build(rows, [100, 200, 300, 400], facts)
    split = Split.temporal(data, SplitConfig(val_share=0.0001, test_share=0.25, seed=1))
    assert split.part[(data.users == 0) & (data.items == 1)] == TEST  # user 1's item 200 is held out
    sources = TagSources.from_rows(
        [{"user": 1, "item": 100, "tag": "Noir", "ts": 11}, {"user": 1, "item": 200, "tag": " noir ", "ts": 91},
         {"user": 1, "item": 200, "tag": "heist", "ts": 91}],
        # item 200's "heist" has a second application from another source (HetRec): it stays
        [{"item": 100, "tag": "noir", "count": 1}, {"item": 200, "tag": "noir", "count": 1},
         {"item": 200, "tag": "heist", "count": 2}],
        [{"item": 200, "attr": "Person:7", "tags": ["noir"]}])
    keep = training_facts(data, split, sources)
    kept = {(int(data.item_ids[i]), data.attr_keys[a]) for i, a in zip(data.fact_items[keep], data.fact_attrs[keep])}
    assert kept == {(100, "Tag:noir"), (200, "Tag:heist"), (200, "Genre:Crime")}
    assert len(with_facts(data, keep).fact_items) == 3
    assert training_facts(data, split, TagSources()).all()  # no tags: nothing to leave out


def test_a_component_whose_ablation_is_not_worse_is_left_out() -> None:
    from kgrec.ranking.evaluation import _earned_places
    from kgrec.ranking.hybrid import BlendParams

    rng = np.random.default_rng(0)
    target = rng.normal(size=(20, 50)).astype(np.float32)
    parts = {"ease": target + rng.normal(size=target.shape).astype(np.float32),
             "lightgcn": target + 2 * rng.normal(size=target.shape).astype(np.float32),
             "kge": rng.normal(size=target.shape).astype(np.float32)}  # noise: adds nothing
    objective = lambda s: float(np.corrcoef(s.ravel(), target.ravel())[0, 1])  # noqa: E731 - about 0.7 here
    params = BlendParams(weights={"ease": 1.0, "lightgcn": 0.5, "kge": 0.2})
    validation = {"hybrid": 0.5, "hybrid_no_pykeen": 0.5, "hybrid_no_gnn": 0.4, "ease": 0.3, "lightgcn": 0.2,
                  "pykeen": 0.1, "itemknn": 0.2, "mf": 0.25, "popularity": 0.05}
    published, excluded = _earned_places(params, parts, objective, validation,
                                         {"hybrid_no_pykeen": ("kge",), "hybrid_no_gnn": ("lightgcn",)}, lambda m: None)
    assert set(excluded) == {"kge"} and published.weights["kge"] == 0.0 and published.weights["lightgcn"] > 0
    # a blend below a single component on validation is replaced by that component alone
    validation = {"hybrid": 0.2, "hybrid_no_gnn": 0.1, "ease": 0.3, "lightgcn": 0.1, "pykeen": 0.1,
                  "itemknn": 0.1, "mf": 0.1, "popularity": 0.05}
    published, excluded = _earned_places(params, parts, objective, validation, {"hybrid_no_gnn": ("lightgcn",)},
                                         lambda m: None)
    assert "blend" in excluded and published.weights == {"ease": 1.0, "lightgcn": 0.0, "kge": 0.0}


def test_lightgcn_stops_early_and_keeps_its_best_epoch() -> None:
    from kgrec.embeddings.lightgcn import LightGCNConfig, train_lightgcn

    rng = np.random.default_rng(0)
    train = sp.csr_matrix((np.ones(300, dtype=np.float32), (rng.integers(0, 30, 300), rng.integers(0, 40, 300))),
                          shape=(30, 40))
    train.data[:] = 1
    scores = iter([0.1, 0.3, 0.2, 0.25, 0.2, 0.1] + [0.0] * 100)
    seen: list[np.ndarray] = []

    def validate(model) -> float:
        seen.append(model.item_emb.copy())
        return next(scores)

    config = LightGCNConfig(dim=8, epochs=100, eval_every=2, patience=3, batch_size=64, seed=1)
    model = train_lightgcn(train, config, validate=validate)
    assert model.history["stopped_by"] == "patience"
    assert model.history["epochs_run"] == 10 and model.history["best_epoch"] == 4
    assert model.history["best_val_ndcg@10"] == 0.3
    assert np.array_equal(model.item_emb, seen[1])  # the best measured embeddings, not the last
    plain = train_lightgcn(train, LightGCNConfig(dim=8, epochs=3, batch_size=64, seed=1))
    assert plain.history["epochs_run"] == 3 and plain.history["stopped_by"] == "epochs"


def test_lightgcn_carries_taste_to_an_item_through_its_attribute_nodes() -> None:
    """Planted: two taste groups of users, each liking the items of one maker; one item per maker has no
    interaction at all. Through the attribute nodes the group's unrated item scores above the other
    group's for a user of the group; on the user-item graph alone neither has an embedding."""
    from kgrec.embeddings.lightgcn import LightGCNConfig, train_lightgcn

    rng = np.random.default_rng(3)
    n_users, n_items = 40, 20  # items 0-9: maker 0, 10-19: maker 1; items 9 and 19 never interacted with
    rows, cols = [], []
    for u in range(n_users):
        group = u % 2
        for i in rng.choice(9, size=5, replace=False):
            rows.append(u)
            cols.append(int(i) + 10 * group)
    train = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n_users, n_items))
    train.sum_duplicates()
    train.data[:] = 1
    makers = sp.csr_matrix((np.ones(n_items, dtype=np.float32), (np.arange(n_items), np.arange(n_items) // 10)),
                           shape=(n_items, 2))
    config = LightGCNConfig(dim=16, epochs=60, batch_size=64, seed=2, lr=0.05)
    model = train_lightgcn(train, config, attributes=makers)
    assert model.history["attribute_nodes"] == 2 and model.history["attribute_links_per_epoch"] == n_items
    assert model.item_emb.shape == (n_items, 16) and model.user_emb.shape == (n_users, 16)
    assert model.base_emb.shape == (n_users + n_items, 16)  # users then items: what a warm start reads
    for group in (0, 1):
        profile = np.arange(5) + 10 * group
        scores = model.fold_in(profile) @ model.item_emb.T
        assert scores[9 + 10 * group] > scores[19 - 10 * group]
    plain = train_lightgcn(train, config)
    assert not plain.item_emb[[9, 19]].any()  # no interaction, no attribute: no evidence, a zero row


def test_lightgcn_scorer_settings_are_chosen_on_validation_and_kept_by_save_and_refit(tmp_path) -> None:
    from kgrec.embeddings.lightgcn import SCORER_SETTINGS, LightGCNConfig, train_lightgcn
    from kgrec.ranking.modelstore import load_lightgcn, save_lightgcn

    rng = np.random.default_rng(4)
    train = sp.csr_matrix((np.ones(400, dtype=np.float32), (rng.integers(0, 30, 400), rng.integers(0, 40, 400))),
                          shape=(30, 40))
    train.data[:] = 1
    config = LightGCNConfig(dim=8, epochs=4, eval_every=2, batch_size=64, seed=1, attributes=False)
    grid = [(a, b, d) for a in config.fold_degree_grid for b in config.target_norm_grid
            for d in config.disliked_weight_grid]
    pick = 16  # a = 0.25, b = 0.5, d = 0.25: no setting at its plain value
    calls: list = []

    def validate(model) -> float:
        calls.append(model)
        # the two training checks score 0.5; the scorer grid's chosen setting beats the rest
        return 0.5 if len(calls) <= 2 else (0.9 if len(calls) == 3 + pick else 0.4)

    model = train_lightgcn(train, config, validate=validate)
    assert len(calls) == 2 + len(grid)
    a, b, d = grid[pick]
    assert tuple(model.history[name] for name in SCORER_SETTINGS) == (a, b, d) and 0 < a and 0 < b and d < 1
    degree = np.asarray(train.sum(0)).ravel()
    norm = np.linalg.norm(model.item_emb, axis=1)
    assert np.allclose(model.query_scale, np.maximum(degree, 1) ** -a, rtol=1e-5)
    assert np.allclose(model.target_scale, np.where(norm > 0, norm, 1) ** -b, rtol=1e-5)
    # a fold-in weighs each profile item by 1/deg^a and scores the items' vectors scaled by 1/|e|^b
    x = train[:3].toarray()
    users = (x * model.query_scale) @ model.item_emb / x.sum(1, keepdims=True)
    targets = (model.item_emb * model.target_scale[:, None]).T
    assert np.allclose(model.score(train[:3]), users @ targets, atol=1e-5)
    # with the liked rows known, an item not liked folds in with weight d; a row with nothing liked, all alike
    liked_rows = x * (rng.random(x.shape) < 0.5)
    liked_rows[2] = 0
    liked = sp.csr_matrix(liked_rows)
    w = np.where(liked.toarray() > 0, 1.0, d) * x
    w[2] = x[2]
    users = (w * model.query_scale) @ model.item_emb / w.sum(1, keepdims=True)
    assert np.allclose(model.score(train[:3], liked), users @ targets, atol=1e-5)
    assert not np.allclose(model.score(train[:2], liked[:2]), model.score(train[:2]), atol=1e-5)
    save_lightgcn(tmp_path, model)
    loaded = load_lightgcn(tmp_path)
    assert np.array_equal(loaded.score(train, train), model.score(train, train)) and loaded.disliked_weight == d
    # without validation (the refit) the configured settings are used
    refit = train_lightgcn(train, replace(config, fold_degree=a, target_norm=b, disliked_weight=d))
    assert tuple(refit.history[name] for name in SCORER_SETTINGS) == (a, b, d) and refit.disliked_weight == d
    assert np.allclose(refit.query_scale, model.query_scale)


def test_the_refit_keeps_the_tuning_runs_optimiser_steps() -> None:
    from kgrec.ranking.fitting import Choices

    chosen = Choices(ease_l2=400.0, lightgcn_epochs=300, kge_model="RotatE", kge_epochs=20)
    refit = chosen.scaled(tuning_rows=70_000, all_rows=100_000)
    assert refit == Choices(ease_l2=400.0, lightgcn_epochs=210, kge_model="RotatE", kge_epochs=14)
    assert Choices(1.0, 1, "TransE", 1).scaled(1, 1000).lightgcn_epochs == 1
    # LightGCN's epochs also cover its item-attribute links: 70k + 150k positives then 100k + 150k
    both = chosen.scaled(70_000, 100_000, lightgcn_rows=(220_000, 250_000))
    assert both.lightgcn_epochs == 264 and both.kge_epochs == 14
