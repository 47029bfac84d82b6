"""Shared nodes found in memory (explain/shared.py) give the same literal paths as the Cypher discovery, and
a triple the graph no longer holds is dropped rather than shown."""
from __future__ import annotations

from graphdata import COLLATERAL, HEIST_FILM, LONELY, load_small_graph
from kgrec.explain.paths import Likes, explain_items, path_exists
from kgrec.explain.shared import SharedIndex
from kgrec.graph.connection import Graph
from kgrec.ranking.graphdata import load_dataset

ITEMS = [COLLATERAL, HEIST_FILM, LONELY]


def _plan(graph: Graph, items: list[int]) -> tuple[Likes, dict]:
    data = load_dataset(graph)
    index = SharedIndex.build(data.item_ids, data.fact_items, data.fact_attrs, data.fact_relations,
                              data.attr_keys, data.relations)
    likes = Likes.read(graph, 1)
    rows = graph.run_text("MATCH (:User {id: 1})-[r:RATED]->(i:Item) RETURN i.id AS id, r.rating AS rating, r.ts AS ts")
    interactions = {r["id"]: (r["rating"], r["ts"]) for r in rows}
    return likes, index.plan(items, likes.liked, interactions, per_kind=3)


def _texts(explained: dict) -> dict[int, list[str]]:
    return {item: sorted(e.text for e in es) for item, es in explained.items()}


def test_in_memory_discovery_matches_cypher(empty_graph: Graph) -> None:
    load_small_graph(empty_graph)
    likes, plan = _plan(empty_graph, ITEMS)
    assert plan["chosen"] and plan["discover"] == [] and plan["new_liked"] == []
    in_memory = explain_items(empty_graph, 1, ITEMS, paths=3, likes=likes, **plan)
    assert _texts(in_memory) == _texts(explain_items(empty_graph, 1, ITEMS, paths=3, likes=likes))
    for es in in_memory.values():
        assert all(path_exists(empty_graph, e.path) for e in es)


def test_a_triple_the_graph_lost_is_dropped(empty_graph: Graph) -> None:
    load_small_graph(empty_graph)
    likes, plan = _plan(empty_graph, [COLLATERAL])
    # the graph changes after the model was trained: the director link of Collateral goes away
    empty_graph.run_text("MATCH (:Person)-[d:DIRECTED]->(:Item {id: $item}) DELETE d", {"item": COLLATERAL},
                         write=True)
    explained = explain_items(empty_graph, 1, [COLLATERAL], paths=3, likes=likes, **plan)
    assert all(e.kind != "director" for e in explained[COLLATERAL])
    assert all(path_exists(empty_graph, e.path) for e in explained[COLLATERAL])


def test_items_unknown_to_the_model_fall_back_to_cypher(empty_graph: Graph) -> None:
    load_small_graph(empty_graph)
    likes, plan = _plan(empty_graph, ITEMS)
    index_without = {**plan, "chosen": [], "discover": [COLLATERAL]}  # as if Collateral came after training
    explained = explain_items(empty_graph, 1, [COLLATERAL], paths=3, likes=likes, **index_without)
    assert explained[COLLATERAL] and explained[COLLATERAL][0].kind == "director"
