"""Candidates found in memory (explain/shared.py) and fetched literally give the same explanations as the
graph walk, and a path the graph no longer holds is dropped rather than shown."""
from __future__ import annotations

from graphdata import COLLATERAL, DAY, HEAT, HEIST_FILM, LONELY, RONIN, load_small_graph
from kgrec.explain.paths import Likes, explain_items, path_exists, select
from kgrec.explain.shared import SharedIndex, fetch_chosen
from kgrec.graph.connection import Graph
from kgrec.ranking.graphdata import load_dataset

ITEMS = [COLLATERAL, HEIST_FILM, LONELY]
TAGGED = [("heist", RONIN, 901 * DAY)]  # user 1's own tag in the fixture


def _index(graph: Graph) -> SharedIndex:
    data = load_dataset(graph)
    return SharedIndex.build(data.item_ids, data.fact_items, data.fact_attrs, data.fact_relations,
                             data.attr_keys, data.relations).with_co_liked(graph)


def _explain(graph: Graph, index: SharedIndex, items: list[int], tagged: list = TAGGED) -> dict:
    likes = Likes.read(graph, 1)
    rows = graph.run_text("MATCH (:User {id: 1})-[r:RATED]->(i:Item) RETURN i.id AS id, r.rating AS rating, r.ts AS ts")
    interactions = {r["id"]: (r["rating"], r["ts"]) for r in rows}
    fetched, titles = fetch_chosen(graph, index, 1, items, likes, interactions, tagged, paths=3)
    assert set(titles) == set(items)  # every item comes back with its title, explained or not
    return select(fetched, items, 3)


def _texts(explained: dict) -> dict[int, list[str]]:
    return {item: sorted(e.text for e in es) for item, es in explained.items()}


def test_in_memory_candidates_match_the_graph_walk(empty_graph: Graph) -> None:
    load_small_graph(empty_graph)
    index = _index(empty_graph)
    assert index.co_liked[HEIST_FILM] == {HEAT: 12}
    in_memory = _explain(empty_graph, index, ITEMS)
    assert _texts(in_memory) == _texts(explain_items(empty_graph, 1, ITEMS, paths=3))
    assert {e.kind for e in in_memory[HEIST_FILM]} == {"co_liked", "your_tag"}
    assert in_memory[COLLATERAL][0].kind == "director" and in_memory[LONELY] == []
    for es in in_memory.values():
        assert all(path_exists(empty_graph, e.path) for e in es)


def test_a_path_the_graph_lost_is_dropped(empty_graph: Graph) -> None:
    load_small_graph(empty_graph)
    index = _index(empty_graph)  # the model and the index were built before the graph changed
    empty_graph.run_text("MATCH (:Person)-[d:DIRECTED]->(:Item {id: $item}) DELETE d", {"item": COLLATERAL},
                         write=True)
    empty_graph.run_text("MATCH ()-[c:CO_LIKED]-() DELETE c", write=True)
    explained = _explain(empty_graph, index, [COLLATERAL, HEIST_FILM])
    assert explained[COLLATERAL] and all(e.kind != "director" for e in explained[COLLATERAL])
    assert [e.kind for e in explained[HEIST_FILM]] == ["your_tag"]
    assert all(path_exists(empty_graph, e.path) for es in explained.values() for e in es)


def test_items_unknown_to_the_index_get_no_candidates(empty_graph: Graph) -> None:
    load_small_graph(empty_graph)
    index = _index(empty_graph)
    likes = Likes.read(empty_graph, 1)
    assert COLLATERAL in index.candidates([COLLATERAL], likes, {})
    assert 999_999 not in index.candidates([999_999], likes, {})  # left to the graph walk


def test_own_tags_match_whatever_their_case(empty_graph: Graph) -> None:
    # the user wrote "Heist"; the aggregated Tag node is "heist" (folded)
    load_small_graph(empty_graph, tagged=[{"user": 1, "item": RONIN, "tag": "Heist", "ts": 901 * DAY}])
    walked = explain_items(empty_graph, 1, [HEIST_FILM], paths=3)
    in_memory = _explain(empty_graph, _index(empty_graph), [HEIST_FILM], [("Heist", RONIN, 901 * DAY)])
    for explained in (walked, in_memory):
        own = [e for e in explained[HEIST_FILM] if e.kind == "your_tag"]
        assert own and own[0].path["relationships"][0]["properties"]["tag"] == "Heist"
        assert path_exists(empty_graph, own[0].path)
