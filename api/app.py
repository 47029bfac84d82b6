"""The Flask application factory: blueprints, problem+json errors, optional API-key auth."""
from __future__ import annotations

import hmac

from flask import Flask, Response, current_app, request

from kgrec.api import metrics
from kgrec.api.errors import problem, register_error_handlers
from kgrec.config import Settings
from kgrec.explain.service import RecommendationService
from kgrec.graph.connection import Graph

#: endpoints that answer without the API key
PUBLIC_ENDPOINTS = {"health.health"}


def create_app(settings: Settings | None = None, service: RecommendationService | None = None) -> Flask:
    """Build the app. Neo4j need not be up: requests answer 503 until it is, and recover by themselves."""
    settings = settings or Settings.from_env()
    if service is None:
        service = RecommendationService(Graph.connect(settings, verify=False, fail_fast=True), settings)
    app = Flask("kgrec")
    app.json.sort_keys = False
    app.extensions["kgrec"] = service
    app.extensions["kgrec.settings"] = settings

    from kgrec.api import catalogue, docs, health, items, users, web

    for blueprint in (health.bp, users.bp, items.bp, catalogue.bp, docs.bp, web.bp):
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
