"""``GET /catalogue``: the graph's catalogue schema as clients need it (signals to offer, attribute kinds,
the category filter)."""
from __future__ import annotations

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint

from kgrec.api.app import service
from kgrec.api.schemas import CatalogueDoc, responses

bp = APIBlueprint("catalogue", __name__)


@bp.get("/catalogue", responses=responses(CatalogueDoc))
def catalogue() -> Response:
    """the graph's catalogue schema: signals (rating scale, events), attribute kinds, category"""
    return jsonify(service().catalogue().describe())
