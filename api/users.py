"""Per-user endpoints: recommendations, explanations, interactions, erasure, the user's data."""
from __future__ import annotations

import time

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint

from kgrec.api.app import service
from kgrec.api.errors import BadRequest
from kgrec.api.schemas import (CypherCF, Erased, ExplainedItem, ExplanationsQuery, InteractionBody,
                               InteractionWritten, Recommendations, RecommendationsQuery, TopK, UserData,
                               UserItemPath, UserPath, responses)
from kgrec.catalogue.signals import SignalError
from kgrec.serve.pipeline import Interaction, NotFound

bp = APIBlueprint("users", __name__, url_prefix="/users")


@bp.get("/<user_id>/recommendations", responses=responses(Recommendations, 400, 404))
def recommendations(path: UserPath, query: RecommendationsQuery) -> Response:
    """top-k items for a user, each with explanation paths"""
    return jsonify(service().recommend(path.user_id, k=query.k, paths=query.paths, explain=query.explain,
                                       exclude_seen=query.exclude_seen, diversity=query.diversity,
                                       category=query.category))


@bp.get("/<user_id>/recommendations/cypher-cf", responses=responses(CypherCF, 400, 404))
def cypher_cf(path: UserPath, query: TopK) -> Response:
    """Neo4j's example collaborative-filtering query alone, for comparison"""
    svc = service()
    if not svc.graph.read("serve/user_exists", user=path.user_id):
        raise NotFound(f"user {path.user_id} not found")
    items = svc.graph.read("serve/cypher_cf", user=path.user_id, k=query.k,
                           interaction=svc.catalogue().signals.relationship)
    return jsonify(user=path.user_id, items=items)


@bp.get("/<user_id>/explanations/<item_id>", responses=responses(ExplainedItem, 400, 404))
def explanations(path: UserItemPath, query: ExplanationsQuery) -> Response:
    """the explanation paths of one item for one user"""
    return jsonify(service().explain(path.user_id, path.item_id, paths=query.paths))


@bp.post("/<user_id>/interactions", responses=responses(InteractionWritten, 400, 404, status=201))
def add_interaction(path: UserPath, body: InteractionBody) -> tuple[Response, int]:
    """record an interaction now; the next recommendations reflect it without retraining
    A rating on the catalogue's scale, or one of its events with an optional weight/count (GET /catalogue);
    a negative event removes the item from the user's lists."""
    weight = body.weight if body.weight is not None else body.count
    interaction = Interaction(item=body.item, ts=int(time.time()) if body.ts is None else body.ts,
                              rating=body.rating, event=body.event, weight=weight)
    try:
        written = service().add_interaction(path.user_id, interaction)
    except SignalError as exc:  # an unknown event, a rating off the scale, both at once
        raise BadRequest(str(exc)) from None
    return jsonify(written), 201


@bp.delete("/<user_id>", responses=responses(Erased, 400, 404))
def erase(path: UserPath) -> Response:
    """erase the user everywhere and for good
    Tombstone, graph, derived data, model versions, caches (kgrec.privacy)."""
    user = path.user_id
    result = service().erase_user(user)
    return jsonify(user=user, erased=True, relationships_removed=result["relationships"],
                   derived={k: result[k] for k in ("co_liked", "tags_removed", "mentions_removed")},
                   model_versions_purged=len(result["model_versions"]), rejects_rows_removed=result["rejects_rows"])


@bp.get("/<user_id>/data", responses=responses(UserData, 400, 404))
def user_data(path: UserPath) -> Response:
    """what kgrec holds on the user
    Every relationship of the User node, and the model versions holding its rows (`kgrec privacy export`)."""
    from kgrec.privacy.export import user_data as export

    svc = service()
    doc = export(svc.graph, svc.settings, path.user_id)
    if doc is None:
        raise NotFound(f"user {path.user_id} not found")
    return jsonify(doc)
