"""Item endpoints: one item, similar items (vector index, with shared paths), popular items, and items
created or updated through the API (PUT)."""
from __future__ import annotations

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint

from kgrec.api.app import service
from kgrec.api.errors import BadRequest
from kgrec.api.schemas import Item, ItemBody, ItemPath, PathsQuery, Popular, PopularQuery, Similar, responses
from kgrec.explain.paths import Candidate, candidate_path

bp = APIBlueprint("items", __name__, url_prefix="/items")


@bp.get("/popular", responses=responses(Popular, 400))
def popular(query: PopularQuery) -> Response:
    """most-liked items"""
    return jsonify(items=service().popular(query.k, query.category))


@bp.get("/<item_id>", responses=responses(Item, 400, 404))
def item(path: ItemPath) -> Response:
    """one item and its attributes"""
    return jsonify(service().item(path.item_id))


@bp.put("/<item_id>", responses={**responses(Item, 400), 201: Item})
def put_item(path: ItemPath, body: ItemBody) -> tuple[Response, int]:
    """create or update an item and its attribute links at once
    As the catalogue schema names them; recommendable and explainable through them before any retraining."""
    from kgrec.ingest.put_item import ItemError, put_item as write_item

    svc = service()
    try:
        existed = write_item(svc.graph, svc.catalogue(), path.item_id, body.model_dump(exclude_none=True))
    except ItemError as exc:
        raise BadRequest(str(exc)) from None
    svc.forget_new_items()
    return jsonify(svc.item(path.item_id)), 200 if existed else 201


@bp.get("/<item_id>/similar", responses=responses(Similar, 400, 404))
def similar(path: ItemPath, query: PathsQuery) -> Response:
    """nearest items in the embedding (Neo4j vector index), with the paths they share"""
    item, k, paths = path.item_id, query.k, query.paths
    svc = service()
    catalogue = svc.model().catalogue  # 503 until a model version (and so the embeddings) exists
    svc.item(item)  # 404 for an unknown item
    rows = svc.graph.read("serve/similar_items", item=item, k=k, paths=paths,
                          attribute_types=catalogue.attribute_types)
    items = [{"id": r["id"], "title": r["title"], "score": round(r["score"], 6),
              "shared": [candidate_path(Candidate(via="shared", degree=0, rating=None, ts=None, liked_id=None, **s),
                                        catalogue) for s in r["shared"]][:paths]} for r in rows]
    return jsonify(item=item, items=items)
