"""GET /health (the process is alive) and GET /ready (Neo4j reachable and a model version loaded, with the
recommendation cache's counters)."""
from __future__ import annotations

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint

from kgrec.api.app import service
from kgrec.api.errors import RETRY_AFTER_SECONDS, problem
from kgrec.api.schemas import Health, Ready, problem_response, responses
from kgrec.serve.errors import NoModel

bp = APIBlueprint("health", __name__)


@bp.get("/health", responses={200: Health, 400: problem_response(400)})
def health() -> Response:
    """the process is alive (never needs the API key)"""
    return jsonify(status="ok")


@bp.get("/ready", responses=responses(Ready))
def ready() -> Response:
    """Neo4j reachable and a model version loaded"""
    try:
        model = service().model()
    except NoModel as exc:
        return problem(503, "Service Unavailable", str(exc), {"Retry-After": str(RETRY_AFTER_SECONDS)})
    return jsonify(status="ready", model_version=model.version, cache=service().cache.stats())
