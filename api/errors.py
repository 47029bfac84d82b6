"""Errors as RFC 9457 problem documents (application/problem+json), one handler for each kind of fault."""
from __future__ import annotations

from flask import Flask, Response, json
from neo4j.exceptions import ServiceUnavailable, SessionExpired, TransientError
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from kgrec.serve.errors import BadFilter, NoModel, NotFound
from kgrec.graph.connection import GraphUnavailable
from kgrec.metrics import NEO4J_ERRORS

#: seconds a client should wait before retrying when Neo4j is unreachable
RETRY_AFTER_SECONDS = 5


class BadRequest(ValueError):
    """A malformed parameter or body (HTTP 400)."""


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps({"type": "about:blank", "status": status, "title": title, "detail": detail})
    return Response(body, status=status, mimetype="application/problem+json", headers=headers or {})


def invalid_request(exc: ValidationError) -> Response:
    """A request that does not fit its operation's models (kgrec.api.schemas): 400, saying what and where."""
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return problem(400, "Bad Request", "; ".join(parts) or "malformed request")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(BadRequest)
    @app.errorhandler(BadFilter)
    def bad_request(exc: Exception) -> Response:
        return problem(400, "Bad Request", str(exc))

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> Response:
        return problem(404, "Not Found", str(exc))

    @app.errorhandler(NoModel)
    def no_model(exc: NoModel) -> Response:
        return problem(503, "Service Unavailable", str(exc), {"Retry-After": str(RETRY_AFTER_SECONDS * 6)})

    @app.errorhandler(ServiceUnavailable)
    @app.errorhandler(SessionExpired)
    @app.errorhandler(GraphUnavailable)
    @app.errorhandler(TransientError)
    def database_down(exc: Exception) -> Response:
        NEO4J_ERRORS.labels(type(exc).__name__).inc()
        return problem(503, "Service Unavailable", "the graph database is unreachable; retry later",
                       {"Retry-After": str(RETRY_AFTER_SECONDS)})

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return problem(exc.code or 500, exc.name, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error")
        return problem(500, "Internal Server Error", "an unexpected error occurred; see the server log")
