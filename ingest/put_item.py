"""``PUT /items/{id}``: an item and its attribute links written at once, as the catalogue schema names them.

A shop adds a product: its brand node and category node are linked in the same write, so the product is
recommendable and explainable through them before any retraining (serving scores items the model has not
seen from their attributes). The attributes given replace the item's links of those kinds; kinds not given
are left as they are.
"""
from __future__ import annotations

from typing import Any

from kgrec.catalogue.schema import Catalogue
from kgrec.graph import cypher
from kgrec.graph.connection import Graph
from kgrec.ingest.names import clean
from kgrec.ingest.plan import LINK, Plan
from kgrec.ingest.writer import write_plan

MAX_VALUES = 100


class ItemError(ValueError):
    """A body the catalogue cannot take; the message names the field (HTTP 400)."""


def parse_item(catalogue: Catalogue, item: int, body: dict[str, Any]) -> Plan:
    """The plan of one item from ``{"title", "text"?, "properties"?: {...}, "attributes"?: {kind: [values]}}``."""
    unknown = set(body) - {"title", "text", "properties", "attributes"}
    if unknown:
        raise ItemError(f"unknown fields: {', '.join(sorted(unknown))}")
    title = body.get("title")
    if not isinstance(title, str) or not clean(title):
        raise ItemError("title must be a non-empty string")
    text = body.get("text")
    if text is not None and not isinstance(text, str):
        raise ItemError("text must be a string")
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise ItemError("properties must be an object")
    for name, value in props.items():
        if name not in catalogue.item_properties:
            raise ItemError(f"properties.{name}: not a property of the {catalogue.name!r} catalogue "
                            f"(have: {', '.join(catalogue.item_properties) or 'none'})")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
            raise ItemError(f"properties.{name} must be a string or a number")
    attributes = body.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise ItemError("attributes must be an object of kind -> list of values")
    declared = [a.name for a in catalogue.attributes if not a.builtin]
    plan = Plan(catalogue)
    plan.add("item", id=item, title=clean(title), text=clean(text) if text else None,
             **{p: props.get(p) for p in catalogue.item_properties})
    for kind, values in attributes.items():
        if kind not in declared:
            raise ItemError(f"attributes.{kind}: not an attribute of the {catalogue.name!r} catalogue "
                            f"(have: {', '.join(declared)})")
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or len(values) > MAX_VALUES \
                or not all(isinstance(v, str) and clean(v) for v in values):
            raise ItemError(f"attributes.{kind} must be a list of at most {MAX_VALUES} non-empty strings")
        for order, value in enumerate(values, start=1):
            plan.link(item, kind, value, order=order)
    plan.notes["replaced"] = list(attributes)
    return plan


def put_item(graph: Graph, catalogue: Catalogue, item: int, body: dict[str, Any], batch_size: int = 1000) -> bool:
    """Write the item and its links; returns whether it existed before."""
    plan = parse_item(catalogue, item, body)
    existed = bool(graph.read("serve/titles", items=[item]))
    for kind in plan.notes["replaced"]:
        spec = catalogue.by_name[kind]
        keep = [r["key"] for r in plan.rows[LINK].values() if r["attribute"] == kind]
        graph.write(cypher.render("serve/unlink_item", label=spec.label, key=spec.key, rel=spec.relationship),
                    item=item, keep=keep)
    write_plan(graph, plan, batch_size, progress=False)
    graph.write("ingest/bump_revision")  # serving processes see the new item (and drop cached lists)
    return existed
