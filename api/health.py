"""GET /health (the process is alive) and GET /ready (Neo4j reachable and a model version loaded, with the
recommendation cache's counters)."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from kgrec.api.app import service
from kgrec.api.errors import RETRY_AFTER_SECONDS, problem
from kgrec.explain.service import NoModel

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> Response:
    return jsonify(status="ok")


@bp.get("/ready")
def ready() -> Response:
    try:
        model = service().model()
    except NoModel as exc:
        return problem(503, "Service Unavailable", str(exc), {"Retry-After": str(RETRY_AFTER_SECONDS)})
    return jsonify(status="ready", model_version=model.version, cache=service().cache.stats())
