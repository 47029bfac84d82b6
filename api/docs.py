"""GET /openapi.json and a docs page served from here (no CDN): it renders the OpenAPI document."""
from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response, current_app, jsonify

from kgrec.api.openapi import build_spec

bp = Blueprint("docs", __name__)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(build_spec(with_auth=bool(current_app.extensions["kgrec.settings"].api_key)))


@bp.get("/docs")
def docs() -> Response:
    page = resources.files("kgrec.api").joinpath("docs.html").read_text(encoding="utf-8")
    return Response(page, mimetype="text/html")
