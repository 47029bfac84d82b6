"""The OpenAPI 3 document of the API (served at /openapi.json; schemathesis checks it against the code)."""
from __future__ import annotations

from typing import Any

from kgrec.explain.service import MAX_K, MAX_PATHS

_ID = {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
_PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _param(name: str, where: str, schema: dict[str, Any], description: str, required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required or where == "path", "schema": schema,
            "description": description}


def _responses(ok: dict[str, Any], ok_code: str = "200", *errors: str) -> dict[str, Any]:
    out: dict[str, Any] = {ok_code: {"description": "success", "content": {"application/json": {"schema": ok}}}}
    text = {"400": "malformed parameter or body", "401": "API key missing or wrong",
            "404": "unknown user or item", "503": "Neo4j unreachable or no model version yet"}
    for code in ("400", "401", "404", "503"):
        if code in errors or code in ("401", "503"):
            out[code] = {"description": text[code], "content": {"application/problem+json": {"schema": _PROBLEM}}}
    return out


def build_spec(with_auth: bool) -> dict[str, Any]:
    user = _param("user_id", "path", _ID, "user id")
    item = _param("item_id", "path", _ID, "item id")
    k = _param("k", "query", {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 10}, "how many items")
    paths = _param("paths", "query", {"type": "integer", "minimum": 0, "maximum": MAX_PATHS, "default": 3},
                   "explanations (paths) per item")
    category = _param("category", "query", {"type": "string", "minLength": 1, "maxLength": 200,
                                            "pattern": r"\S"},
                      "only items in this category (the catalogue's category attribute, e.g. a genre; "
                      "`genre` is accepted as its older name); a category no item has gives an empty list")
    boolean = {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no"]}
    spec: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "kgrec", "version": "1.0",
                 "description": "Explainable knowledge-graph recommendations: every explanation is a literal "
                                "path in Neo4j."},
        "paths": {
            "/health": {"get": {"summary": "the process is alive", "security": [],
                                "responses": {"200": {"description": "alive", "content": {"application/json": {
                                    "schema": {"type": "object", "properties": {"status": {"type": "string"}}}}}}}}},
            "/ready": {"get": {"summary": "Neo4j reachable and a model version loaded",
                               "responses": _responses({"type": "object", "required": ["status", "model_version"],
                                                        "properties": {"status": {"type": "string"},
                                                                       "model_version": {"type": "string"},
                                                                       "cache": {"type": "object", "properties": {
                                                                           "hits": {"type": "integer"},
                                                                           "misses": {"type": "integer"},
                                                                           "entries": {"type": "integer"}}}}})}},
            "/users/{user_id}/recommendations": {"get": {
                "summary": "top-k items for a user, each with explanation paths",
                "parameters": [user, k, paths,
                               _param("explain", "query", boolean, "include explanations (default true)"),
                               _param("exclude_seen", "query", boolean, "leave out rated items (default true)"),
                               _param("diversity", "query", {"type": "number", "minimum": 0, "maximum": 1,
                                                             "default": 0}, "0 = by score; 1 = most varied"),
                               category],
                "responses": _responses({"$ref": "#/components/schemas/Recommendations"}, "200", "400", "404")}},
            "/users/{user_id}/recommendations/cypher-cf": {"get": {
                "summary": "Neo4j's example collaborative-filtering query alone (the hand-written alternative)",
                "parameters": [user, k],
                "responses": _responses({"type": "object", "required": ["user", "items"], "properties": {
                    "user": _ID, "items": {"type": "array", "items": {"type": "object",
                                                                      "required": ["id", "score"], "properties": {
                        "id": _ID, "title": {"type": "string", "nullable": True},
                        "score": {"type": "integer"}}}}}}, "200", "400", "404")}},
            "/users/{user_id}/explanations/{item_id}": {"get": {
                "summary": "the explanation paths of one item for one user",
                "parameters": [user, item, _param("paths", "query", {"type": "integer", "minimum": 1,
                                                                      "maximum": MAX_PATHS, "default": 3}, "paths")],
                "responses": _responses({"$ref": "#/components/schemas/ExplainedItem"}, "200", "400", "404")}},
            "/users/{user_id}/interactions": {"post": {
                "summary": "record an interaction now (a rating on the catalogue's scale, or one of its events "
                           "with an optional weight/count: GET /catalogue); the next recommendations reflect it "
                           "without retraining; a negative event removes the item from the user's lists",
                "parameters": [user],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["item"], "additionalProperties": False,
                    "properties": {"item": _ID, "rating": {"type": "number"},
                                   "event": {"type": "string", "minLength": 1, "maxLength": 64},
                                   "weight": {"type": "number", "exclusiveMinimum": True, "minimum": 0},
                                   "count": {"type": "number", "exclusiveMinimum": True, "minimum": 0},
                                   "ts": {"type": "integer", "minimum": 0, "maximum": 2**53,
                                          "description": "seconds since the epoch (default: now)"}}}}}},
                "responses": _responses({"type": "object", "required": ["user", "item", "ts"],
                                         "properties": {"user": _ID, "item": _ID,
                                                        "rating": {"type": "number", "nullable": True},
                                                        "event": {"type": "string", "nullable": True},
                                                        "weight": {"type": "number", "nullable": True},
                                                        "ts": {"type": "integer"}}}, "201", "400", "404")}},
            "/users/{user_id}": {"delete": {
                "summary": "erase a user with their ratings and tags",
                "parameters": [user],
                "responses": _responses({"type": "object", "required": ["user", "erased"],
                                         "properties": {"user": _ID, "erased": {"type": "boolean"},
                                                        "relationships_removed": {"type": "integer"},
                                                        "derived": {"type": "object"},
                                                        "model_versions_purged": {"type": "integer"},
                                                        "rejects_rows_removed": {"type": "integer"}}},
                                        "200", "400", "404")}},
            "/users/{user_id}/data": {"get": {
                "summary": "what kgrec holds on the user: every relationship of the User node, and the model "
                           "versions holding its rows",
                "parameters": [user],
                "responses": _responses({"type": "object", "required": ["user", "properties", "relationships"],
                                         "properties": {"user": _ID, "properties": {"type": "object"},
                                                        "relationships": {"type": "array", "items": {
                                                            "type": "object",
                                                            "required": ["type", "direction", "properties", "other"],
                                                            "properties": {
                                                                "type": {"type": "string"},
                                                                "direction": {"type": "string", "enum": ["out", "in"]},
                                                                "properties": {"type": "object"},
                                                                "other": {"type": "object"}}}},
                                                        "counts": {"type": "object"},
                                                        "model_versions": {"type": "array", "items": {
                                                            "type": "object", "properties": {
                                                                "version": {"type": "string"},
                                                                "interactions": {"type": "integer"}}}}}},
                                        "200", "400", "404")}},
            "/items/popular": {"get": {
                "summary": "most-liked items", "parameters": [k, category],
                "responses": _responses({"type": "object", "required": ["items"], "properties": {"items": {
                    "type": "array", "items": {"type": "object", "required": ["id", "likes"], "properties": {
                        "id": _ID, "title": {"type": "string", "nullable": True},
                        "likes": {"type": "integer"}}}}}}, "200", "400")}},
            "/items/{item_id}": {"get": {
                "summary": "one item and its attributes", "parameters": [item],
                "responses": _responses({"$ref": "#/components/schemas/Item"}, "200", "400", "404")},
                "put": {
                "summary": "create or update an item and its attribute links at once (as the catalogue schema "
                           "names them); recommendable and explainable through them before any retraining",
                "parameters": [item],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["title"], "additionalProperties": False,
                    "properties": {"title": {"type": "string", "minLength": 1, "pattern": r"\S"},
                                   "text": {"type": "string"},
                                   "properties": {"type": "object"},
                                   "attributes": {"type": "object", "additionalProperties": {
                                       "type": "array", "items": {"type": "string"}}}}}}}},
                "responses": {**_responses({"$ref": "#/components/schemas/Item"}, "200", "400"),
                              "201": {"description": "created", "content": {"application/json": {
                                  "schema": {"$ref": "#/components/schemas/Item"}}}}}}},
            "/catalogue": {"get": {
                "summary": "the graph's catalogue schema: signals (rating scale, events), attribute kinds, category",
                "responses": _responses({"type": "object", "required": ["name", "signals", "attributes"],
                                         "properties": {"name": {"type": "string"}, "item": {"type": "object"},
                                                        "signals": {"type": "object"},
                                                        "attributes": {"type": "array", "items": {"type": "object"}},
                                                        "category": {"type": "string", "nullable": True},
                                                        "social": {"type": "object"}}})}},
            "/items/{item_id}/similar": {"get": {
                "summary": "nearest items in the embedding (Neo4j vector index), with the paths they share",
                "parameters": [item, k, paths],
                "responses": _responses({"type": "object", "required": ["item", "items"], "properties": {
                    "item": _ID, "items": {"type": "array", "items": {"type": "object",
                                                                      "required": ["id", "score", "shared"],
                                                                      "properties": {
                        "id": _ID, "title": {"type": "string", "nullable": True}, "score": {"type": "number"},
                        "shared": {"type": "array", "items": {"$ref": "#/components/schemas/Path"}}}}}}},
                    "200", "400", "404")}},
        },
        "components": {"schemas": {
            "Problem": {"type": "object", "required": ["status", "title", "detail"], "properties": {
                "type": {"type": "string"}, "status": {"type": "integer"}, "title": {"type": "string"},
                "detail": {"type": "string"}}},
            "Node": {"type": "object", "required": ["labels", "key", "value", "name"], "properties": {
                "labels": {"type": "array", "items": {"type": "string"}}, "key": {"type": "string"},
                "value": {}, "name": {"type": "string", "nullable": True}}},
            "Path": {"type": "object", "required": ["nodes", "relationships"], "properties": {
                "nodes": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                "relationships": {"type": "array", "items": {"type": "object",
                                                             "required": ["type", "start", "end", "properties"],
                                                             "properties": {
                    "type": {"type": "string"}, "start": {"type": "integer"}, "end": {"type": "integer"},
                    "properties": {"type": "object"}}}}}},
            "Explanation": {"type": "object", "required": ["text", "kind", "path"], "properties": {
                "text": {"type": "string"}, "kind": {"type": "string"},
                "path": {"$ref": "#/components/schemas/Path"}, "liked_item": {"type": "integer", "nullable": True},
                "weight": {"type": "number"}, "contribution": {"type": "number"}}},
            "ExplainedItem": {"type": "object", "required": ["id", "title", "score"], "properties": {
                "user": _ID, "model_version": {"type": "string"}, "id": _ID,
                "title": {"type": "string", "nullable": True}, "score": {"type": "number", "nullable": True},
                "cold_start": {"type": "boolean"},
                "explanations": {"type": "array", "items": {"$ref": "#/components/schemas/Explanation"}}}},
            "Recommendations": {"type": "object", "required": ["user", "model_version", "items"], "properties": {
                "user": _ID, "model_version": {"type": "string"},
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/ExplainedItem"}}}},
            "Item": {"type": "object", "required": ["id", "attributes"], "properties": {
                "id": _ID, "title": {"type": "string", "nullable": True},
                "labels": {"type": "array", "items": {"type": "string"}},
                "properties": {"type": "object"},
                "attributes": {"type": "object", "description": "attribute kind -> [{name, key, order?}]",
                               "additionalProperties": {"type": "array", "items": {"type": "object"}}},
                "interactions": {"type": "integer"}}},
        }},
    }
    if with_auth:
        spec["components"]["securitySchemes"] = {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
        spec["security"] = [{"apiKey": []}]
    return spec
