"""Which catalogue a graph holds: its schema's TOML text is kept on ``(:GraphState {id: 'graph'})`` by
ingest, so training, serving and every replica read the same schema from the database itself.
A graph built before schemas existed (or an empty one) is the movie catalogue."""
from __future__ import annotations

import threading

from kgrec.catalogue.schema import Catalogue, SchemaError, load, parse
from kgrec.graph import cypher
from kgrec.graph.connection import Graph

DEFAULT = "movies"
_parsed: dict[str, Catalogue] = {}
_lock = threading.Lock()


class CatalogueMismatch(SchemaError):
    """An ingest asked for another catalogue than the one the graph holds."""


def active(graph: Graph) -> Catalogue:
    """The graph's catalogue (parsed once per distinct text)."""
    rows = graph.read("catalogue/read")
    if not rows:
        return load(DEFAULT)
    text = rows[0]["text"]
    with _lock:
        if text not in _parsed:
            _parsed[text] = parse(text, f"the graph's catalogue {rows[0]['name']!r}")
        return _parsed[text]


def store(graph: Graph, catalogue: Catalogue, *, replace: bool = False) -> None:
    """Record ``catalogue`` as the graph's and create its constraints. A graph that holds items of
    another catalogue keeps it unless ``replace`` (a new version of the same catalogue is fine)."""
    rows = graph.read("catalogue/read")
    if rows and rows[0]["name"] != catalogue.name and not replace:
        raise CatalogueMismatch(
            f"the graph holds the {rows[0]['name']!r} catalogue, not {catalogue.name!r}: ingest with "
            f"--catalogue {rows[0]['name']} (or wipe the graph first)")
    if not rows and catalogue.name != DEFAULT and not replace and graph.read("catalogue/has_items"):
        raise CatalogueMismatch(
            f"the graph already holds items of the {DEFAULT!r} catalogue, not {catalogue.name!r}: "
            "wipe the graph first")
    apply_constraints(graph, catalogue)
    graph.write("catalogue/write", text=catalogue.source, catalogue=catalogue.name)


def apply_constraints(graph: Graph, catalogue: Catalogue) -> None:
    """A uniqueness constraint per item and attribute label of the schema (idempotent)."""
    keys = {label: key for label, key in catalogue.key_by_label.items() if label not in ("User", "Item")}
    statements = [cypher.render("catalogue/unique", name=f"{label.lower()}_{key}", label=label, key=key)
                  for label, key in keys.items()]
    statements += [cypher.render("catalogue/name_index", name=f"{label.lower()}_name", label=label)
                   for label in catalogue.id_labels if label not in catalogue.item_labels]
    graph.run_statements(statements)
