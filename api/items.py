"""Item endpoints: one item, similar items (vector index, with shared paths), popular items."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from kgrec.api.app import service
from kgrec.api.params import int_arg, parse_id, str_arg
from kgrec.explain.paths import Candidate, candidate_path
from kgrec.explain.service import MAX_K, MAX_PATHS, NotFound

bp = Blueprint("items", __name__, url_prefix="/items")


@bp.get("/popular")
def popular() -> Response:
    k = int_arg(request.args, "k", 10, 1, MAX_K)
    rows = service().graph.read("serve/popular", k=k, genre=str_arg(request.args, "genre"), min_rating=4.0)
    return jsonify(items=rows)


@bp.get("/<item_id>")
def item(item_id: str) -> Response:
    item = parse_id(item_id, "item")
    rows = service().graph.read("serve/item", item=item)
    if not rows:
        raise NotFound(f"item {item} not found")
    return jsonify(rows[0])


@bp.get("/<item_id>/similar")
def similar(item_id: str) -> Response:
    item = parse_id(item_id, "item")
    k = int_arg(request.args, "k", 10, 1, MAX_K)
    paths = int_arg(request.args, "paths", 3, 0, MAX_PATHS)
    svc = service()
    svc.model()  # 503 until a model version (and so the embeddings) exists
    if not svc.graph.read("serve/item", item=item):
        raise NotFound(f"item {item} not found")
    rows = svc.graph.read("serve/similar_items", item=item, k=k, paths=paths)
    items = [{"id": r["id"], "title": r["title"], "score": round(r["score"], 6),
              "shared": [candidate_path(Candidate(via="shared", degree=0, rating=None, ts=None, liked_id=None, **s))
                         for s in r["shared"]][:paths]} for r in rows]
    return jsonify(item=item, items=items)
