"""A small movie graph that tests write themselves (no shared data needed)."""
from __future__ import annotations

from pathlib import Path

from kgrec.graph.connection import Graph
from kgrec.graph.cypher import split_statements

FIXTURE = Path(__file__).parent / "fixtures" / "small_graph.cypher"
DAY = 86400
HEAT, COLLATERAL, THIEF, RONIN, HEIST_FILM, LONELY = 10, 11, 12, 13, 14, 15


def load_small_graph(graph: Graph, **overrides: list) -> None:
    data = {
        "movies": [{"id": HEAT, "title": "Heat"}, {"id": COLLATERAL, "title": "Collateral"},
                   {"id": THIEF, "title": "Thief"}, {"id": RONIN, "title": "Ronin"},
                   {"id": HEIST_FILM, "title": "The Heist"}, {"id": LONELY, "title": "Lonely Film"}]
        + [{"id": 100 + i, "title": f"Crime film {i}"} for i in range(20)],
        "users": [1, 2],
        "ratings": [{"user": 1, "item": HEAT, "rating": 5.0, "ts": 1000 * DAY},
                    {"user": 1, "item": THIEF, "rating": 4.0, "ts": 10 * DAY},
                    {"user": 1, "item": RONIN, "rating": 2.0, "ts": 900 * DAY},
                    {"user": 2, "item": COLLATERAL, "rating": 4.5, "ts": 5 * DAY}],
        "links": [{"item": HEAT, "label": "Person", "key": "michael-mann", "name": "Michael Mann", "type": "DIRECTED"},
                  {"item": COLLATERAL, "label": "Person", "key": "michael-mann", "name": "Michael Mann", "type": "DIRECTED"},
                  {"item": THIEF, "label": "Person", "key": "michael-mann", "name": "Michael Mann", "type": "DIRECTED"},
                  {"item": HEAT, "label": "Genre", "key": "Crime", "type": "IN_GENRE"},
                  {"item": COLLATERAL, "label": "Genre", "key": "Crime", "type": "IN_GENRE"},
                  {"item": RONIN, "label": "Genre", "key": "Crime", "type": "IN_GENRE"},
                  {"item": RONIN, "label": "Tag", "key": "heist", "type": "HAS_TAG"},
                  *({"item": 100 + i, "label": "Genre", "key": "Crime", "type": "IN_GENRE"} for i in range(20)),
                  {"item": HEIST_FILM, "label": "Tag", "key": "heist", "type": "HAS_TAG"}],
        "tagged": [{"user": 1, "item": RONIN, "tag": "heist", "ts": 901 * DAY}],
        "co_liked": [{"a": HEAT, "b": HEIST_FILM, "users": 12}],
    }
    data.update(overrides)
    for statement in split_statements(FIXTURE.read_text()):
        graph.run_text(statement, data, write=True)
