"""Per-user endpoints: recommendations, explanations, interactions, erasure, the user's data."""
from __future__ import annotations

import time

from flask import Blueprint, Response, jsonify, request

from kgrec.api.app import service
from kgrec.api.errors import BadRequest
from kgrec.api.params import bool_arg, float_arg, int_arg, json_object, parse_id, str_arg
from kgrec.catalogue.signals import SignalError
from kgrec.explain.service import MAX_K, MAX_PATHS, Interaction, NotFound

bp = Blueprint("users", __name__, url_prefix="/users")


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
        category=category_arg(args),
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
    unknown = set(body) - {"item", "rating", "event", "weight", "count", "ts"}
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(sorted(unknown))}")
    item = body.get("item")
    if isinstance(item, bool) or not isinstance(item, int):
        raise BadRequest("item must be an integer item id")
    rating, event = body.get("rating"), body.get("event")
    if rating is not None and (isinstance(rating, bool) or not isinstance(rating, (int, float))):
        raise BadRequest("rating must be a number")
    if event is not None and not isinstance(event, str):
        raise BadRequest("event must be a string (one of the catalogue's events: GET /catalogue)")
    if "weight" in body and "count" in body:
        raise BadRequest("give weight or count, not both")
    weight = body.get("weight", body.get("count"))
    if weight is not None and (isinstance(weight, bool) or not isinstance(weight, (int, float))):
        raise BadRequest("weight/count must be a positive number")
    ts = body.get("ts", int(time.time()))
    if isinstance(ts, bool) or not isinstance(ts, int) or ts < 0 or ts > 2**53:
        raise BadRequest("ts must be a non-negative integer (seconds since the epoch)")
    interaction = Interaction(item=parse_id(str(item), "item"), ts=ts, rating=None if rating is None else float(rating),
                              event=event, weight=None if weight is None else float(weight))
    try:
        written = service().add_interaction(user, interaction)
    except SignalError as exc:  # an unknown event, a rating off the scale, both at once
        raise BadRequest(str(exc)) from None
    return jsonify(written), 201


def category_arg(args) -> str | None:
    """``category=`` (the catalogue's category attribute, e.g. a genre); ``genre=`` is its older name."""
    category, genre = str_arg(args, "category"), str_arg(args, "genre")
    if category is not None and genre is not None:
        raise BadRequest("give category or genre, not both")
    return category if category is not None else genre


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
