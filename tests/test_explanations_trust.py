"""Explanations people can trust (explain/trust.py): junk never explains, a minor role gives way to a salient
shared node, one fact is shown once through its most structural relationship, and each explanation is
credited with the share of the score its liked item carries under the served model.

The graphs are written here; each case is checked on both candidate finders, the graph walk
(cypher/explain/paths.cypher) and the in-memory index with literal fetch (explain/shared.py)."""
from __future__ import annotations

import csv
from typing import Any
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import TrainedGraph
from synthetic import movie_id
from kgrec.config import Settings
from kgrec.explain.paths import Candidate, Likes, explain_items, path_exists, select
from kgrec.serve.pipeline import RecommendationService
from kgrec.explain.shared import SharedIndex, fetch_chosen
from kgrec.graph.connection import Graph
from kgrec.ranking.graphdata import load_dataset

GREEN_MILE, SHAWSHANK, MIST, PLAIN = 1, 2, 3, 4
USER = 1

# The Shawshank case: user 1 rated The Green Mile 5★; Frank Darabont directed both films, both texts mention
# him, both are tagged "frank darabont" (three people each); a bit-part actor (billed 20th and 25th) is in
# both; both carry a tag one person applied, and a DATE entity found in both texts.
GRAPH = """
UNWIND [[1, 'Green Mile, The'], [2, 'Shawshank Redemption, The'], [3, 'Mist, The'], [4, 'Plain Film']] AS m
CREATE (:Movie:Item {id: m[0], title: m[1]});
UNWIND [1, 2, 9] AS u CREATE (:User {id: u});
MATCH (u:User {id: 1}), (m:Item {id: 1}) CREATE (u)-[:RATED {rating: 5.0, ts: 1000}]->(m);
CREATE (:Person:Entity {id: 'frank-darabont', name: 'Frank Darabont', label: 'PERSON'});
CREATE (:Person {id: 'frank-medrano', name: 'Frank Medrano'});
CREATE (:Entity {id: 'date:1955', name: '1955', label: 'DATE'});
MATCH (p:Person {id: 'frank-darabont'}), (m:Item) WHERE m.id IN [1, 2]
CREATE (p)-[:DIRECTED]->(m), (m)-[:MENTIONS {count: 1}]->(p);
MATCH (p:Person {id: 'frank-medrano'}), (m:Item) WHERE m.id IN [1, 2]
CREATE (p)-[:ACTED_IN {order: 20 + 5 * (m.id - 1)}]->(m);
MATCH (e:Entity {id: 'date:1955'}), (m:Item) WHERE m.id IN [1, 2] CREATE (m)-[:MENTIONS {count: 1}]->(e);
MERGE (t:Tag {name: 'frank darabont'}) WITH t
MATCH (m:Item) WHERE m.id IN [1, 2] CREATE (m)-[:HAS_TAG {count: 3}]->(t);
MERGE (t:Tag {name: 'in the nucleus'}) WITH t
MATCH (m:Item) WHERE m.id IN [1, 2] CREATE (m)-[:HAS_TAG {count: 1}]->(t);
MATCH (u:User {id: 9}), (m:Item) WHERE m.id IN [1, 2] CREATE (u)-[:TAGGED {tag: 'In the Nucleus', ts: 5}]->(m);
"""


def _load(graph: Graph, extra: str = "") -> None:
    graph.run_text("MATCH (n) DETACH DELETE n", write=True)
    for statement in (GRAPH + extra).split(";"):
        if statement.strip():
            graph.run_text(statement, write=True)


def _both(graph: Graph, items: list[int], paths: int = 10) -> list[dict[int, list]]:
    """The explanations of ``items`` for user 1 by the graph walk and by the in-memory index."""
    walked = explain_items(graph, USER, items, paths=paths)
    data = load_dataset(graph)
    index = SharedIndex.build(data.item_ids, data.fact_items, data.fact_attrs, data.fact_relations,
                              data.attr_keys, data.relations).with_co_liked(graph)
    likes = Likes.read(graph, USER)
    fetched, _ = fetch_chosen(graph, index, USER, items, likes, {GREEN_MILE: (5.0, 1000)}, (), paths=paths)
    in_memory = select(fetched, items, paths)
    for explained in (walked, in_memory):
        assert all(path_exists(graph, e.path) for es in explained.values() for e in es)
    return [walked, in_memory]


def _shared_names(explanations: list) -> list[str]:
    return [e.shared["name"] for e in explanations if e.shared is not None]


def test_shawshank_is_explained_by_its_director_once(empty_graph: Graph) -> None:
    _load(empty_graph)
    for explained in _both(empty_graph, [SHAWSHANK]):
        shown = explained[SHAWSHANK]
        assert shown[0].kind == "director"
        assert shown[0].text == ("You rated The Green Mile 5\u2605 \u2014 The Shawshank Redemption is also "
                                 "directed by Frank Darabont.")
        # the tag "frank darabont" and "both mention Frank Darabont" are the same fact: not shown again
        assert [e.kind for e in shown if "darabont" in e.text.lower()] == ["director"]
        names = _shared_names(shown)
        assert "Frank Medrano" not in names  # a bit part, while the director is shared
        assert "in the nucleus" not in names and "1955" not in names  # junk
        assert len(names) == len(set(n.lower() for n in names))


def test_a_one_user_tag_never_explains(empty_graph: Graph) -> None:
    # Plain Film shares only the one-user tag with The Green Mile
    _load(empty_graph, """;
        MATCH (t:Tag {name: 'in the nucleus'}), (m:Item {id: 4}) CREATE (m)-[:HAS_TAG {count: 1}]->(t);
        MATCH (u:User {id: 9}), (m:Item {id: 4}) CREATE (u)-[:TAGGED {tag: 'in the nucleus', ts: 6}]->(m)""")
    for explained in _both(empty_graph, [PLAIN]):
        assert explained[PLAIN] == []
    # a second person applying it makes it a shared word, and then it explains
    empty_graph.run_text("MATCH (u:User {id: 2}), (m:Item {id: 1}) "
                         "CREATE (u)-[:TAGGED {tag: 'in the nucleus', ts: 7}]->(m)", write=True)
    for explained in _both(empty_graph, [PLAIN]):
        assert [e.kind for e in explained[PLAIN]] == ["tag"]
        assert "in the nucleus" in explained[PLAIN][0].text


def test_a_date_entity_never_explains(empty_graph: Graph) -> None:
    # Plain Film's text mentions 1955 too, and a person who is no attribute node
    _load(empty_graph, """;
        MATCH (e:Entity {id: 'date:1955'}), (m:Item {id: 4}) CREATE (m)-[:MENTIONS {count: 1}]->(e)""")
    for explained in _both(empty_graph, [PLAIN]):
        assert explained[PLAIN] == []
    empty_graph.run_text("""CREATE (e:Entity {id: 'person:stephen king', name: 'Stephen King', label: 'PERSON'})
                            WITH e MATCH (m:Item) WHERE m.id IN [1, 4] CREATE (m)-[:MENTIONS {count: 1}]->(e)""",
                         write=True)
    for explained in _both(empty_graph, [PLAIN]):
        assert [e.text for e in explained[PLAIN]] == ["You rated The Green Mile 5\u2605 \u2014 both mention Stephen King."]


def test_a_minor_role_explains_only_when_nothing_salient_is_shared(empty_graph: Graph) -> None:
    # The Mist shares only the bit-part actor with The Green Mile
    _load(empty_graph, """;
        MATCH (p:Person {id: 'frank-medrano'}), (m:Item {id: 3}) CREATE (p)-[:ACTED_IN {order: 30}]->(m)""")
    for explained in _both(empty_graph, [MIST, SHAWSHANK]):
        assert _shared_names(explained[MIST]) == ["Frank Medrano"]
        assert "Frank Medrano" not in _shared_names(explained[SHAWSHANK])


def _candidate(liked: int, kind: str, degree: int) -> Candidate:
    return Candidate("shared", [], [], degree, 5.0, 1000, liked, kind=kind,
                     spec={"item": PLAIN, "via": "shared", "liked": liked, "label": "Person", "key": "id",
                           "value": f"person-{liked}", "liked_rel": "DIRECTED", "item_rel": "DIRECTED"})


def test_a_liked_item_that_does_not_raise_the_score_is_never_the_main_reason() -> None:
    from kgrec.explain.paths import rank

    from kgrec.explain.paths import default_catalogue

    # liked item 7 shares a rarer node (ranked first on its own), but the model says it lowers the score
    candidates = {PLAIN: [_candidate(7, "director", 2), _candidate(8, "director", 40)]}
    contributions = {PLAIN: {7: -0.5, 8: 1.5, 9: 0.5}}
    picked = rank(candidates, [PLAIN], 2, default_catalogue(), contributions)[PLAIN]
    assert [(c.liked_id, share) for c, _, _, share in picked] == [(8, 0.75)]
    assert [rank(candidates, [PLAIN], 2, default_catalogue())[PLAIN][0][0].liked_id] == [7]  # without the model
    # where nothing else explains the item, it is shown, never as the main reason
    alone = {PLAIN: [_candidate(7, "director", 2)]}
    picked = rank(alone, [PLAIN], 2, default_catalogue(), contributions)[PLAIN]
    assert [(c.liked_id, share) for c, _, _, share in picked] == [(7, -0.25)]


def test_explanations_are_faithful_to_the_served_model(graph: Graph, trained_graph: TrainedGraph) -> None:
    settings = replace(trained_graph.settings, cache_seconds=0)
    service = RecommendationService(graph, settings)
    model = service.model()
    checked = 0
    for user in range(1, 7):
        profile = service.profile(user)
        doc = service.recommend(user, k=10, paths=3)
        scores = np.asarray(model.score_profile(profile))
        for entry in doc["items"]:
            shown = entry["explanations"]  # an item the graph cannot explain has none (it comes last)
            shares = [e["contribution_share"] for e in shown]
            assert all(s is not None for s in shares)
            assert shares == sorted(shares, reverse=True)  # ordered by contribution
            # one that does not raise the score is shown only for an item nothing faithful explains
            assert all(s > 0 for s in shares) or not any(s > 0 for s in shares)
            assert [e["main"] for e in shown] == [n == 0 and s > 0 for n, s in enumerate(shares)]
            pos = model.index_of(entry["id"])
            for e in shown:
                if e["contribution_share"] <= 0:
                    continue
                # counterfactual: without the cited item the model scores the item lower
                without = [p for p in profile if p[0] != e["liked_item"]]
                assert np.asarray(model.score_profile(without))[pos] < scores[pos], (user, entry["id"], e["text"])
                checked += 1
    assert checked >= 20


@pytest.mark.parametrize("stat_sample", [None, 4], ids=["whole-catalogue", "sampled-statistics"])
def test_leave_one_out_is_the_served_score_without_the_item(trained_graph: TrainedGraph, stat_sample: int | None,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Exact against the served score, also when the terms are standardised on a sample of the catalogue
    (a large catalogue's case: then only the sample and the targets are scored per removal)."""
    from kgrec.ranking import standard

    if stat_sample is not None:
        monkeypatch.setattr(standard, "STAT_SAMPLE", stat_sample)
    standard.stat_columns.cache_clear()
    try:
        _check_leave_one_out(trained_graph, standard, stat_sample)
    finally:
        standard.stat_columns.cache_clear()  # the next test reads the real sample


def _check_leave_one_out(trained_graph: TrainedGraph, standard: Any, stat_sample: int | None) -> None:
    from kgrec.explain.fidelity import leave_one_out
    from kgrec.ranking.recommender import Recommender

    model = Recommender.load(trained_graph.settings.models_dir / trained_graph.version)
    if stat_sample is not None:
        sampled = standard.stat_columns(len(model.item_ids))
        assert sampled is not None and len(sampled) == stat_sample < len(model.item_ids)
    profile = [(movie_id(0, k), 5.0 - 0.5 * (k % 3), 100 + k) for k in range(6)] + [(movie_id(2, 0), 2.0, 50)]
    targets = [movie_id(0, 9), movie_id(1, 3), movie_id(3, 5)]
    removed = [movie_id(0, 0), movie_id(0, 4), movie_id(2, 0), 424242]
    # with and without recency decay: a removal moves every older item up a rank (a larger weight)
    for params in (model.params, replace(model.params, half_life=2.5)):
        model.params = params
        drops = leave_one_out(model, profile, targets, removed)
        full = np.asarray(model.score_profile(profile), dtype=np.float64)
        for r in removed[:3]:
            without = np.asarray(model.score_profile([p for p in profile if p[0] != r]), dtype=np.float64)
            for t in targets:
                pos = model.index_of(t)
                # the served score is float32: beyond 1e-4, a few units in its last place (a 4-item sample's
                # tiny spread makes the standardised scores millions, where one unit is 0.25)
                ulp = float(np.spacing(np.float32(max(abs(full[pos]), abs(without[pos])))))
                assert abs(drops[t][r] - (full[pos] - without[pos])) < 1e-4 + 8 * ulp, (params.half_life, t, r)
        assert all(drops[t][424242] == 0.0 for t in targets)  # not in the profile: removing it changes nothing


def test_zero_weight_profile_items_are_skipped_without_changing_a_score(trained_graph: TrainedGraph,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Scoring, the additive contributions and the exact credit skip profile items of weight 0 (disliked ones
    when ``disliked_weight`` is 0): the same values as when every item is summed with its zero weight, the
    removal of a zero-weight item included (older items still move up a recency rank)."""
    import kgrec.explain.fidelity as fidelity
    import kgrec.ranking.recommender as recommender
    from kgrec.ranking.recommender import Recommender

    model = Recommender.load(trained_graph.settings.models_dir / trained_graph.version)
    model.params = replace(model.params, half_life=2.5, disliked_weight=0.0)
    # the disliked items interleaved in time with the liked ones: removing one moves older liked items up
    profile = [(movie_id(0, k), 5.0 - 0.5 * (k % 3), 100 + 2 * k) for k in range(6)] + \
              [(movie_id(2, k), 2.0, 101 + 2 * k) for k in range(3)]
    targets = [movie_id(0, 9), movie_id(1, 3), movie_id(3, 5)]
    removed = [movie_id(0, 0), movie_id(0, 4), movie_id(2, 1)]
    _, w, _ = model._profile(profile)
    assert (w == 0).sum() == 3 and len(w) == 9

    def served() -> tuple[np.ndarray, np.ndarray, dict[int, dict[int, float]], np.ndarray]:
        contributions = model.contributions_many(profile, targets)
        shares = np.array([[contributions[t][p[0]] for p in profile] for t in targets])
        only_disliked = np.asarray(model.score_profile(profile[6:]), dtype=np.float64)
        return (np.asarray(model.score_profile(profile), dtype=np.float64), shares,
                fidelity.leave_one_out(model, profile, targets, removed), only_disliked)

    skipped = served()
    every = np.ones  # every item summed, zero weights too
    monkeypatch.setattr(recommender, "live", lambda weights: every(len(weights), dtype=bool))
    monkeypatch.setattr(fidelity, "live", lambda weights: every(len(weights), dtype=bool))
    summed = served()
    np.testing.assert_allclose(skipped[0], summed[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(skipped[1], summed[1], rtol=1e-5, atol=1e-6)
    assert np.all(skipped[1][:, 6:] == 0.0)  # a zero-weight item's share of an additive score is nothing
    for t in targets:
        for r in removed:
            assert skipped[2][t][r] == pytest.approx(summed[2][t][r], rel=1e-4, abs=1e-4), (t, r)
    assert any(abs(skipped[2][t][movie_id(2, 1)]) > 1e-6 for t in targets)  # its removal moves the ranks
    np.testing.assert_array_equal(skipped[3], summed[3])  # all weights zero: nothing is skipped


def _movielens(root: Path, tags: list[tuple[int, int, str, int]]) -> Path:
    ml = root / "ml-latest-small"
    ml.mkdir(parents=True)
    files = {"movies.csv": (["movieId", "title", "genres"], [[1, "Heat (1995)", "Crime"], [2, "Ronin (1998)", "Action"]]),
             "ratings.csv": (["userId", "movieId", "rating", "timestamp"], [[u, m, 4.0, 50] for u in (1, 2) for m in (1, 2)]),
             "tags.csv": (["userId", "movieId", "tag", "timestamp"], [list(t) for t in tags])}
    for name, (header, rows) in files.items():
        with open(ml / name, "w", newline="") as fh:
            csv.writer(fh).writerows([header, *rows])
    return root


def test_an_entity_link_from_tags_needs_several_people(empty_graph: Graph, neo4j_settings: Settings,
                                                      tmp_path: Path) -> None:
    from kgrec.ingest.movielens import build_plan
    from kgrec.ingest.rejects import Rejects
    from kgrec.ingest.run import ingest_plan

    # one person tags Heat with a decade; two people tag Ronin with another
    root = _movielens(tmp_path / "src", [(1, 1, "1940s", 100), (1, 2, "1970s", 101), (2, 2, "1970s", 102)])

    def mentions(settings: Settings) -> set[tuple[int, str]]:
        with Rejects(tmp_path / "rejects.csv") as rejects:
            ingest_plan(empty_graph, build_plan(root, rejects), settings, rejects, progress=False, co_liked=False)
        rows = empty_graph.run_text("MATCH (i:Item)-[:MENTIONS]->(e:Entity) RETURN i.id AS i, e.id AS e")
        return {(r["i"], r["e"]) for r in rows}

    settings = replace(neo4j_settings, home=tmp_path / "home", spacy_model="blank")
    assert settings.entity_min_tag_users == 2
    assert mentions(settings) == {(2, "date:1970s")}
    # the rule is what keeps Heat's link out: with one person enough, it is there (and stale ones go again)
    assert mentions(replace(settings, entity_min_tag_users=1)) == {(1, "date:1940s"), (2, "date:1970s")}
    assert mentions(settings) == {(2, "date:1970s")}


def test_lift_learns_which_shared_nodes_go_with_shared_likes() -> None:
    from scipy import sparse

    from kgrec.explain.lift import Lifts
    from kgrec.explain.paths import default_catalogue

    # 40 users, 8 items: items 0-1 share a director and the same 10 users like both; all 8 share a genre,
    # and every user likes one other item at random
    rng = np.random.default_rng(3)
    likes = [(u, i) for u in range(10) for i in (0, 1)] + [(u, int(rng.integers(2, 8))) for u in range(40)]
    users, items = zip(*likes)
    positives = sparse.csc_matrix((np.ones(len(likes), dtype=np.float32), (users, items)), shape=(40, 8))
    positives.data[:] = 1.0
    relations = ("DIRECTED", "IN_GENRE")
    facts = [(0, 0, 1), (1, 0, 1)] + [(i, 1, 2) for i in range(8)]  # (item, attribute, relation + 1)
    rows = sparse.csr_matrix(([r for _, _, r in facts], ([i for i, _, _ in facts], [a for _, a, _ in facts])),
                             shape=(8, 2))
    lifts = Lifts.estimate(positives, rows, ("Person:someone", "Genre:Drama"), relations, default_catalogue(), {},
                           {i: i for i in range(8)})
    assert lifts.of("director", 2) > 2.0  # four times as likely as chance
    assert lifts.of("director", 2) > 2 * lifts.of("genre", 8)
    assert lifts.of("keyword", 3) == 1.0  # never seen: no evidence either way
