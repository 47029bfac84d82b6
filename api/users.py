"""Per-user endpoints: recommendations, explanations, interactions, erasure, the user's data."""
from __future__ import annotations

import time

from flask import Blueprint, Response, jsonify, request

from kgrec.api.app import service
from kgrec.api.errors import BadRequest
from kgrec.api.params import bool_arg, float_arg, int_arg, json_object, parse_id, str_arg
from kgrec.explain.service import MAX_K, MAX_PATHS, Interaction, NotFound

bp = Blueprint("users", __name__, url_prefix="/users")

#: the rating scale (MovieLens: 0.5 to 5 stars)
MIN_RATING, MAX_RATING = 0.5, 5.0


@bp.get("/<user_id>/recommendations")
def recommendations(user_id: str) -> Response:
    args = request.args
    doc = service().recommend(
        parse_id(user_id, "user"),
        k=int_arg(args, "k", 10, 1, MAX_K),
        paths=int_arg(args, "paths", 3, 0, MAX_PATHS),
        explain=bool_arg(args, "explain", True),
        exclude_seen=bool_arg(args, "exclude_seen", True),
        diversity=float_arg(args, "diversity", 0.0, 0.0, 1.0),
        genre=str_arg(args, "genre"),
    )
    return jsonify(doc)


@bp.get("/<user_id>/recommendations/cypher-cf")
def cypher_cf(user_id: str) -> Response:
    """The hand-written alternative (Neo4j's example collaborative-filtering query), for comparison."""
    user = parse_id(user_id, "user")
    k = int_arg(request.args, "k", 10, 1, MAX_K)
    svc = service()
    if not svc.graph.read("serve/user_exists", user=user):
        raise NotFound(f"user {user} not found")
    return jsonify(user=user, items=svc.graph.read("serve/cypher_cf", user=user, k=k))


@bp.get("/<user_id>/explanations/<item_id>")
def explanations(user_id: str, item_id: str) -> Response:
    paths = int_arg(request.args, "paths", 3, 1, MAX_PATHS)
    return jsonify(service().explain(parse_id(user_id, "user"), parse_id(item_id, "item"), paths=paths))


@bp.post("/<user_id>/interactions")
def add_interaction(user_id: str) -> tuple[Response, int]:
    user = parse_id(user_id, "user")
    body = json_object(request.get_json(silent=True))
    unknown = set(body) - {"item", "rating", "ts"}
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(sorted(unknown))}")
    item = body.get("item")
    if isinstance(item, bool) or not isinstance(item, int):
        raise BadRequest("item must be an integer item id")
    rating = body.get("rating")
    if isinstance(rating, bool) or not isinstance(rating, (int, float)) or not MIN_RATING <= rating <= MAX_RATING:
        raise BadRequest(f"rating must be a number from {MIN_RATING} to {MAX_RATING}")
    ts = body.get("ts", int(time.time()))
    if isinstance(ts, bool) or not isinstance(ts, int) or ts < 0 or ts > 2**53:
        raise BadRequest("ts must be a non-negative integer (seconds since the epoch)")
    written = service().add_interaction(user, Interaction(item=parse_id(str(item), "item"), rating=float(rating), ts=ts))
    return jsonify(written), 201


@bp.delete("/<user_id>")
def erase(user_id: str) -> Response:
    """Erase the user everywhere (kgrec.privacy): tombstone, graph, derived data, model versions, caches."""
    user = parse_id(user_id, "user")
    result = service().erase_user(user)
    return jsonify(user=user, erased=True, relationships_removed=result["relationships"],
                   derived={k: result[k] for k in ("co_liked", "tags_removed", "mentions_removed")},
                   model_versions_purged=len(result["model_versions"]), rejects_rows_removed=result["rejects_rows"])


@bp.get("/<user_id>/data")
def user_data(user_id: str) -> Response:
    """What kgrec holds on the user (the `kgrec privacy export` document)."""
    from kgrec.privacy.export import user_data as export

    user = parse_id(user_id, "user")
    svc = service()
    doc = export(svc.graph, svc.settings, user)
    if doc is None:
        raise NotFound(f"user {user} not found")
    return jsonify(doc)
