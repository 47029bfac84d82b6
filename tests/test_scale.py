"""Large catalogues (issue 18): the sparse item-item model above KGREC_EASE_DENSE_MAX_ITEMS, serving and
explanations through it, keyset-paged training reads, bounded evaluation and epochs, staged publishing.
Small sizes here; the sizes themselves are measured by bench/scale.py."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from conftest import TrainedGraph
from graphdata import load_small_graph
from kgrec.config import Settings
from kgrec.graph.connection import Graph
from kgrec.ranking.itemmodels import EASE
from kgrec.ranking.metrics import EvalSet
from kgrec.ranking.sparse_items import SparseEASE, item_block, item_rows, load, save, tune_item_model
from synthetic import synthetic

PLANTED = (7, 42)  # item 42 is what the users of item 7 take next


def _planted(n_users: int = 400, n_items: int = 300, seed: int = 0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Random interactions (train) plus a planted pair: 60 users take both items of PLANTED; the validation
    targets are each planted user's partner item, so tuning has something to find."""
    rng = np.random.default_rng(seed)
    train = (sp.random(n_users, n_items, density=0.04, format="csr", random_state=seed) > 0).astype(np.float32).tolil()
    a, b = PLANTED
    planted = rng.choice(n_users, 60, replace=False)
    for u in planted[:50]:
        train[u, a] = train[u, b] = 1.0
    targets = sp.lil_matrix((n_users, n_items), dtype=np.float32)
    for u in planted[50:]:
        train[u, a], train[u, b] = 1.0, 0.0
        targets[u, b] = 1.0
    train = train.tocsr()
    train.eliminate_zeros()  # a removed interaction is no history
    return train, targets.tocsr()


def test_sparse_item_model_is_used_above_the_threshold_and_ranks_a_planted_neighbour_first() -> None:
    train, targets = _planted()
    val = EvalSet.build(train, targets)
    small = Settings.from_env({"KGREC_EASE_DENSE_MAX_ITEMS": "100", "KGREC_EASE_NEIGHBOURS": "20"})
    model, params, score = tune_item_model(train, val, 2, (50.0, 300.0), small)
    assert isinstance(model, SparseEASE) and params["l2"] in (50.0, 300.0) and score > 0
    assert model.B.nnz <= len(model.items) * 20  # at most k neighbours per scored item
    scores = model.score_items(np.array([PLANTED[0]]))
    scores[PLANTED[0]] = -np.inf
    assert int(np.argmax(scores)) == PLANTED[1]
    # below the threshold: dense EASE, as before
    dense, _, _ = tune_item_model(train, val, 2, (300.0,), Settings.from_env({}))
    assert isinstance(dense, EASE) and not sp.issparse(dense.B)


def test_sparse_ease_with_every_item_as_neighbour_is_dense_ease(tmp_path) -> None:
    """The restriction is the only approximation: with every pair of items co-occurring and k = n - 1, each
    column is EASE's own ridge regression."""
    train = (sp.random(300, 50, density=0.3, format="csr", random_state=2) > 0).astype(np.float32)
    assert (train.T @ train).nnz == 50 * 50
    dense = EASE.fit(train, l2=30.0)
    grid = SparseEASE.fit_grid(train, (30.0, 3000.0), k=49)
    assert np.allclose(grid[0].B.toarray(), dense.B, atol=1e-5)
    assert not np.allclose(grid[1].B.toarray(), dense.B, atol=1e-5)  # each L2 solved on its own
    profile, weights = np.array([3, 7, 11]), np.array([1.0, 0.5, -0.5], dtype=np.float32)
    assert np.allclose(grid[0].score_items(profile, weights), dense.score_items(profile, weights), atol=1e-5)
    rows, cols = np.array([0, 5]), np.array([2, 3, 9])
    assert np.allclose(item_block(grid[0], rows, cols), item_block(dense, rows, cols), atol=1e-5)
    assert np.allclose(item_rows(grid[0], rows), item_rows(dense, rows), atol=1e-5)
    save(tmp_path, grid[0])
    again = load(tmp_path)
    assert isinstance(again, SparseEASE) and (again.B != grid[0].B).nnz == 0 and again.n_items == 50
    save(tmp_path, dense)
    assert isinstance(load(tmp_path), EASE)


def test_serving_and_explanations_use_a_sparse_item_model_as_they_use_ease(trained_graph: TrainedGraph) -> None:
    """The trained version's EASE swapped for the same B in sparse form: the same scores and contributions."""
    from kgrec.explain.fidelity import leave_one_out
    from kgrec.ranking.recommender import Recommender

    model = Recommender.load(trained_graph.settings.models_dir / trained_graph.version)
    e = model.components.ease
    sparse = replace(model, components=replace(model.components, ease=SparseEASE(e.items, sp.csr_matrix(e.B), e.n_items)))
    profile = [(int(i), 5.0, 1_600_000_000 + n) for n, i in enumerate(model.item_ids[:6])]
    assert np.allclose(model.score_profile(profile), sparse.score_profile(profile), atol=1e-4)
    targets = [int(i) for i, _ in model.recommend(profile, k=3)]
    a, b = model.contributions_many(profile, targets), sparse.contributions_many(profile, targets)
    assert a.keys() == b.keys() and a[targets[0]]
    for t in targets:
        assert np.allclose(list(a[t].values()), list(b[t].values()), atol=1e-4)
    cited = [p[0] for p in profile[:2]]
    la, lb = leave_one_out(model, profile, targets, cited), leave_one_out(sparse, profile, targets, cited)
    for t in targets:
        assert np.allclose([la[t][c] for c in cited], [lb[t][c] for c in cited], atol=1e-4)


_OLD_READS = {  # the training reads as they were before paging (one streamed result, one collected record)
    "ratings": "MATCH (u:User)-[r:RATED]->(i:Item) RETURN u.id AS user, i.id AS item, r.rating AS rating, "
               "coalesce(r.ts, 0) AS ts",
    "items": "MATCH (i:Item) RETURN i.id AS item",
    "facts": "MATCH (i:Item)-[r]-(a) WHERE type(r) IN $attribute_types AND NOT a:Item AND NOT a:User "
             "WITH i, r, a, [l IN $attribute_labels WHERE l IN labels(a)] AS known WHERE size(known) > 0 "
             "WITH i, r, known[0] AS label, CASE WHEN known[0] IN $id_labels THEN a.id ELSE a.name END AS key "
             "WHERE key IS NOT NULL RETURN i.id AS item, type(r) AS rel, label + ':' + toString(key) AS attr",
    "social": "MATCH (a:User)-[r:FOLLOWS|FRIEND]->(b:User) RETURN collect([a.id, b.id]) + "
              "[(x:User)-[:FRIEND]->(y:User) | [y.id, x.id]] AS rows",
}


def _contents(d) -> tuple:
    """A dataset as order-free external-id contents."""
    order = np.lexsort((d.ts, d.item_ids[d.items], d.user_ids[d.users]))
    interactions = [a[order].tolist() for a in (d.user_ids[d.users], d.item_ids[d.items], d.ratings, d.ts)]
    facts = sorted(zip(d.item_ids[d.fact_items].tolist(), [d.relations[r] for r in d.fact_relations],
                       [d.attr_keys[a] for a in d.fact_attrs]))
    social = sorted(zip(d.user_ids[d.social_users].tolist(), d.user_ids[d.social_others].tolist()))
    return d.user_ids.tolist(), d.item_ids.tolist(), interactions, facts, social


def test_paged_training_reads_give_the_same_dataset_as_one_read(empty_graph: Graph) -> None:
    from kgrec.catalogue.store import active
    from kgrec.ranking.dataset import Dataset
    from kgrec.ranking.graphdata import load_dataset

    graph = empty_graph
    load_small_graph(graph, **synthetic())
    graph.run_text("MATCH (a:User {id: 1}), (b:User {id: 2}), (c:User {id: 30}) "
                   "CREATE (a)-[:FOLLOWS]->(b), (c)-[:FRIEND]->(a), (b)-[:FOLLOWS]->(c)", write=True)
    catalogue = active(graph)
    paged = load_dataset(graph, catalogue=catalogue, page=5)  # 48 users, 81 items: many pages
    whole = load_dataset(graph, catalogue=catalogue, page=1_000_000)
    labels = {"attribute_types": catalogue.attribute_types, "attribute_labels": catalogue.attribute_labels,
              "id_labels": catalogue.id_labels}
    before = Dataset.build(
        [(r["user"], r["item"], float(r["rating"]), r["ts"]) for r in graph.run_text(_OLD_READS["ratings"])],
        [r["item"] for r in graph.run_text(_OLD_READS["items"])],
        [(r["item"], r["rel"], r["attr"]) for r in graph.run_text(_OLD_READS["facts"], labels)],
        [tuple(e) for e in graph.run_text(_OLD_READS["social"])[0]["rows"]])
    assert len(paged.users) > 100 and len(paged.social_users) == 4 and len(paged.fact_items) > 80
    assert _contents(paged) == _contents(whole) == _contents(before)


def test_existing_interactions_are_read_in_pages(empty_graph: Graph) -> None:
    """The ingest's "what is there already" read pages through users: same rows as one collected read."""
    from kgrec.graph import cypher
    from kgrec.graph.paging import is_paged, pages
    from kgrec.ingest.writer import collected

    load_small_graph(empty_graph, **synthetic())
    query = cypher.render("ingest/existing_rated", interaction="RATED")
    assert is_paged(query)
    assert len(list(pages(empty_graph, query, page=7))) == 7  # 48 users
    one = empty_graph.run_text("MATCH (u:User)-[r:RATED]->(i:Item) "
                               "RETURN collect([u.id, i.id, r.rating, r.event, r.weight, r.ts]) AS rows")[0]["rows"]
    assert collected(empty_graph, query) == {tuple(r) for r in one} and len(one) > 100


def test_evaluated_users_and_epochs_are_bounded_by_the_catalogue_size() -> None:
    from kgrec.ranking.scale import budget_epochs, eval_users_cap, sample_users

    train, targets = _planted(n_users=400, n_items=300)
    val = EvalSet.build(train, targets + sp.random(400, 300, density=0.05, format="csr", random_state=3))
    assert len(val.users) > 250
    capped = sample_users(val, 300, 300 * 250, seed=1)
    assert len(capped.users) == eval_users_cap(300, 300 * 250) == 250
    assert set(capped.users) < set(val.users) and np.all(np.diff(capped.users) > 0)
    assert np.array_equal(sample_users(val, 300, 300 * 250, seed=1).users, capped.users)  # seeded
    assert sample_users(val, 300, 10**9, seed=1) is val
    assert budget_epochs(100, 80_000, 10_000_000) == 100  # MovieLens-small: unchanged
    assert budget_epochs(100, 1_600_000, 10_000_000) == 6 and budget_epochs(20, 10**8, 10**7) == 1


def test_publish_stages_embeddings_and_switches_them_in_one_transaction(graph: Graph, trained_graph: TrainedGraph) -> None:
    """After a publish nothing stays staged; a stale staged vector (a publish that died) is cleared."""
    from kgrec.ranking.training import publish

    graph.run_text("MATCH (i:Item) WITH i LIMIT 1 SET i.staged_embedding = [1.0], i.staged_version = 'dead'",
                   write=True)
    publish(graph, trained_graph.settings, trained_graph.version, log=lambda m: None)
    row = graph.run_text("MATCH (i:Item) RETURN count(i.staged_embedding) AS staged, count(i.embedding) AS live, "
                         "collect(DISTINCT i.embedding_version) AS versions")[0]
    assert row["staged"] == 0 and row["live"] > 0 and row["versions"] == [trained_graph.version]


pytestmark = pytest.mark.filterwarnings("ignore::scipy.sparse.SparseEfficiencyWarning")
