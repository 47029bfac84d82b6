"""The Flask application factory: blueprints, problem+json errors, optional API-key auth. The app is
flask-openapi3's: the operations declared with the models of kgrec.api.schemas are validated by them and
documented from them (GET /openapi.json)."""
from __future__ import annotations

import hmac

from flask import Flask, Response, current_app, request
from flask_openapi3 import Info, OpenAPI

from kgrec.api import metrics
from kgrec.api.errors import invalid_request, problem, register_error_handlers
from kgrec.api.schemas import Problem
from kgrec.config import Settings
from kgrec.serve.pipeline import RecommendationService
from kgrec.graph.connection import Graph

DESCRIPTION = "Explainable knowledge-graph recommendations: every explanation is a literal path in Neo4j."
#: endpoints that answer without the API key
PUBLIC_ENDPOINTS = {"health.health"}


def create_app(settings: Settings | None = None, service: RecommendationService | None = None) -> Flask:
    """Build the app. Neo4j need not be up: requests answer 503 until it is, and recover by themselves."""
    settings = settings or Settings.from_env()
    if service is None:
        service = RecommendationService(Graph.connect(settings, verify=False, fail_fast=True), settings)
    app = OpenAPI("kgrec", info=Info(title="kgrec", version="1.0", description=DESCRIPTION), doc_ui=False,
                  validation_error_status=400, validation_error_model=Problem,
                  validation_error_callback=invalid_request)
    app.json.sort_keys = False
    app.extensions["kgrec"] = service
    app.extensions["kgrec.settings"] = settings

    from kgrec.api import catalogue, docs, health, items, users, web

    for api in (health.bp, users.bp, items.bp, catalogue.bp):
        app.register_api(api)
    for blueprint in (docs.bp, web.bp):
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    metrics.install(app, service)  # before the key check, so a 401 is timed and logged too

    @app.before_request
    def require_api_key() -> Response | None:
        key = settings.api_key
        if not key or request.endpoint in PUBLIC_ENDPOINTS:
            return None
        given = request.headers.get("X-API-Key") or _bearer(request.headers.get("Authorization", ""))
        if given and hmac.compare_digest(given.encode(), key.encode()):
            return None
        return problem(401, "Unauthorized", "this endpoint needs the API key (header X-API-Key or "
                       "Authorization: Bearer <key>)", {"WWW-Authenticate": 'Bearer realm="kgrec"'})

    return app


def _bearer(header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def service() -> RecommendationService:
    """The process's RecommendationService (inside a request)."""
    return current_app.extensions["kgrec"]
