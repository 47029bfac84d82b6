"""Item endpoints: one item, similar items (vector index, with shared paths), popular items, and items
created or updated through the API (PUT)."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from kgrec.api.app import service
from kgrec.api.errors import BadRequest
from kgrec.api.params import int_arg, json_object, parse_id
from kgrec.api.users import category_arg
from kgrec.explain.paths import Candidate, candidate_path
from kgrec.explain.service import MAX_K, MAX_PATHS

bp = Blueprint("items", __name__, url_prefix="/items")


@bp.get("/popular")
def popular() -> Response:
    k = int_arg(request.args, "k", 10, 1, MAX_K)
    return jsonify(items=service().popular(k, category_arg(request.args)))


@bp.get("/<item_id>")
def item(item_id: str) -> Response:
    return jsonify(service().item(parse_id(item_id, "item")))


@bp.put("/<item_id>")
def put_item(item_id: str) -> tuple[Response, int]:
    """Create or update an item with its attributes (as the catalogue schema names them) in one write."""
    from kgrec.ingest.put_item import ItemError, put_item as write_item

    item = parse_id(item_id, "item")
    svc = service()
    try:
        existed = write_item(svc.graph, svc.catalogue(), item, json_object(request.get_json(silent=True)))
    except ItemError as exc:
        raise BadRequest(str(exc)) from None
    svc.forget_new_items()
    return jsonify(svc.item(item)), 200 if existed else 201


@bp.get("/<item_id>/similar")
def similar(item_id: str) -> Response:
    item = parse_id(item_id, "item")
    k = int_arg(request.args, "k", 10, 1, MAX_K)
    paths = int_arg(request.args, "paths", 3, 0, MAX_PATHS)
    svc = service()
    catalogue = svc.model().catalogue  # 503 until a model version (and so the embeddings) exists
    svc.item(item)  # 404 for an unknown item
    rows = svc.graph.read("serve/similar_items", item=item, k=k, paths=paths,
                          attribute_types=catalogue.attribute_types)
    items = [{"id": r["id"], "title": r["title"], "score": round(r["score"], 6),
              "shared": [candidate_path(Candidate(via="shared", degree=0, rating=None, ts=None, liked_id=None, **s),
                                        catalogue) for s in r["shared"]][:paths]} for r in rows]
    return jsonify(item=item, items=items)
