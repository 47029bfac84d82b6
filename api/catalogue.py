"""``GET /catalogue``: the graph's catalogue schema as clients need it (signals to offer, attribute kinds,
the category filter)."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from kgrec.api.app import service

bp = Blueprint("catalogue", __name__)


@bp.get("/catalogue")
def catalogue() -> Response:
    return jsonify(service().catalogue().describe())
