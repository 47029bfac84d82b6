"""Explanations are literal paths: what Neo4j returns, ranked, rendered, and found again by MATCH."""
from __future__ import annotations

import pytest

from graphdata import COLLATERAL, HEIST_FILM, LONELY, RONIN, load_small_graph
from kgrec.explain.paths import explain_items, path_exists
from kgrec.graph.connection import Graph


def test_paths_are_literal_ranked_and_rendered(empty_graph: Graph) -> None:
    load_small_graph(empty_graph)
    explained = explain_items(empty_graph, user=1, items=[COLLATERAL, HEIST_FILM, LONELY], paths=3)
    assert list(explained) == [COLLATERAL, HEIST_FILM, LONELY]

    collateral = explained[COLLATERAL]
    # the shared director is more specific than the shared genre, and Heat (5★, recent) beats Thief (4★, old)
    assert collateral[0].kind == "director"
    assert collateral[0].text == "You rated Heat 5\u2605 \u2014 Collateral is also directed by Michael Mann."
    kinds = [e.kind for e in collateral]
    assert set(kinds) == {"director", "genre"}  # Ronin (rated 2★) is not "liked": no path through it
    assert all(e.liked_item != RONIN for e in collateral)

    heist = {e.kind: e for e in explained[HEIST_FILM]}
    assert set(heist) == {"co_liked", "your_tag"}
    assert heist["your_tag"].text == "You tagged Ronin \u201cheist\u201d, and The Heist is tagged \u201cheist\u201d too."
    assert heist["co_liked"].text == "You rated Heat 5\u2605; people who liked Heat also liked The Heist."

    assert explained[LONELY] == []  # no path in the graph, so no explanation

    for explanations in (collateral, explained[HEIST_FILM]):
        for e in explanations:
            nodes = e.path["nodes"]
            assert nodes[0] == {"labels": ["User"], "key": "id", "value": 1, "name": "User 1"}
            assert nodes[-1]["value"] in (COLLATERAL, HEIST_FILM) and nodes[-1]["key"] == "id"
            assert 2 <= len(e.path["relationships"]) <= 3
            assert path_exists(empty_graph, e.path), e.text


def test_explanations_follow_the_graph(empty_graph: Graph) -> None:
    load_small_graph(empty_graph)
    assert explain_items(empty_graph, 1, [COLLATERAL])[COLLATERAL][0].kind == "director"
    empty_graph.run_text("MATCH (:Person {id: $p})-[r:DIRECTED]->(:Movie {id: $m}) DELETE r",
                         {"p": "michael-mann", "m": COLLATERAL}, write=True)
    kinds = [e.kind for e in explain_items(empty_graph, 1, [COLLATERAL])[COLLATERAL]]
    assert kinds == ["genre"]


def test_path_exists_detects_a_forged_path(empty_graph: Graph) -> None:
    load_small_graph(empty_graph)
    real = explain_items(empty_graph, 1, [COLLATERAL])[COLLATERAL][0].path
    forged = {"nodes": [dict(n) for n in real["nodes"]], "relationships": real["relationships"]}
    forged["nodes"][1] = {**forged["nodes"][1], "value": RONIN}  # user 1 rated Ronin, but Mann did not direct it
    assert path_exists(empty_graph, real)
    assert not path_exists(empty_graph, forged)


@pytest.mark.parametrize("paths", [1, 2])
def test_paths_limit_and_variety(empty_graph: Graph, paths: int) -> None:
    load_small_graph(empty_graph)
    explained = explain_items(empty_graph, 1, [COLLATERAL, HEIST_FILM], paths=paths)
    assert all(len(v) == paths for v in explained.values())
