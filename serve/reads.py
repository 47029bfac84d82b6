"""What the API reads besides recommendations: an item with its attributes, popular items, a category."""
from __future__ import annotations

from typing import Any

from kgrec.catalogue import signals
from kgrec.catalogue.schema import Catalogue
from kgrec.graph import cypher
from kgrec.graph.connection import Graph
from kgrec.serve.errors import BadFilter, NotFound


def item(graph: Graph, catalogue: Catalogue, item_id: int) -> dict[str, Any]:
    """An item with its properties and its attributes grouped by the catalogue's kinds (GET /items/{id})."""
    rows = graph.read("serve/item", item=item_id, attribute_types=catalogue.attribute_types,
                      interaction=catalogue.signals.relationship)
    if not rows:
        raise NotFound(f"item {item_id} not found")
    row = rows[0]
    attributes: dict[str, list[dict[str, Any]]] = {}
    for rel, name, key, order in row["links"]:
        spec = catalogue.by_relationship[rel]
        entry = {"name": name, "key": key} if order is None else {"name": name, "key": key, "order": order}
        attributes.setdefault(spec.name, []).append(entry)
    for values in attributes.values():
        values.sort(key=lambda v: (v.get("order") or 0, str(v["name"])))
    return {"id": row["id"], "title": row["title"], "labels": row["labels"],
            "properties": dict(sorted(row["properties"])), "attributes": attributes,
            "interactions": row["interactions"]}


def popular(graph: Graph, catalogue: Catalogue, k: int, category: str | None = None) -> list[dict[str, Any]]:
    """Most-liked items by the catalogue's signal model, optionally in one category."""
    s = catalogue.signals
    items = category_items(graph, catalogue, category) if category is not None else None
    return graph.read("serve/popular", k=k, items=items, interaction=s.relationship, positive=s.positive,
                      min_weight=signals.positive_counts(s))


def category_items(graph: Graph, catalogue: Catalogue, value: str) -> list[int]:
    """The items in one category (the catalogue's ``item.category`` attribute, e.g. a genre)."""
    if catalogue.category is None:
        raise BadFilter(f"the {catalogue.name!r} catalogue declares no category")
    spec = catalogue.by_name[catalogue.category]
    query = cypher.render("serve/category_items", label=spec.label, key=spec.key, rel=spec.relationship)
    return [r["item"] for r in graph.read(query, value=value)]
