"""The API's contract, declared once: pydantic models of every path, query and body (flask-openapi3 validates
requests with them and a failure is a 400 problem document) and of every answer (the OpenAPI document at
/openapi.json is generated from the same models)."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kgrec.serve.errors import MAX_K, MAX_PATHS

#: the database stores ids as 64-bit integers
MAX_ID = 2**63 - 1

Id = Annotated[int, Field(ge=0, le=MAX_ID)]
#: in a JSON body an id is a JSON integer ("5" and true are refused)
BodyId = Annotated[int, Field(ge=0, le=MAX_ID, strict=True)]
Category = Annotated[str | None, Field(min_length=1, max_length=200, pattern=r"\S")]


# -- requests -------------------------------------------------------------------------------------------
class UserPath(BaseModel):
    user_id: Id = Field(description="user id")


class ItemPath(BaseModel):
    item_id: Id = Field(description="item id")


class UserItemPath(UserPath, ItemPath):
    pass


class TopK(BaseModel):
    k: int = Field(10, ge=1, le=MAX_K, description="how many items")


class CategoryFilter(BaseModel):
    category: Category = Field(None, description="only items in this category (the catalogue's category "
                               "attribute, e.g. a genre; `genre` is accepted as its older name); a category no "
                               "item has gives an empty list")

    @model_validator(mode="before")
    @classmethod
    def _older_name(cls, data: Any) -> Any:
        """``genre=`` is the older name of ``category=`` (accepted, not documented twice)."""
        if isinstance(data, dict) and "genre" in data:
            data = dict(data)
            if data.get("category") is not None:
                raise ValueError("give category or genre, not both")
            data["category"] = data.pop("genre")
        return data


class PopularQuery(TopK, CategoryFilter):
    pass


class PathsQuery(TopK):
    paths: int = Field(3, ge=0, le=MAX_PATHS, description="explanations (paths) per item")


class RecommendationsQuery(PathsQuery, CategoryFilter):
    explain: bool = Field(True, description="include explanations")
    exclude_seen: bool = Field(True, description="leave out items the user interacted with")
    diversity: float = Field(0.0, ge=0, le=1, allow_inf_nan=False, description="0 = by score; 1 = most varied")


class ExplanationsQuery(BaseModel):
    paths: int = Field(3, ge=1, le=MAX_PATHS, description="explanation paths of the item")


class InteractionBody(BaseModel):
    """A rating on the catalogue's scale, or one of its events with an optional weight/count (GET /catalogue:
    which ratings and events exist is the catalogue's, checked by its signal model)."""
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"anyOf": [
        {"required": ["rating"]}, {"required": ["event"]}, {"required": ["weight"]}, {"required": ["count"]}]})

    item: BodyId
    rating: float | None = Field(None, allow_inf_nan=False)
    event: str | None = Field(None, min_length=1, max_length=64)
    weight: float | None = Field(None, gt=0, allow_inf_nan=False)
    count: float | None = Field(None, gt=0, allow_inf_nan=False)
    ts: int | None = Field(None, ge=0, le=2**53, description="seconds since the epoch (default: now)")

    @model_validator(mode="after")
    def _signal(self) -> "InteractionBody":
        if self.weight is not None and self.count is not None:
            raise ValueError("give weight or count, not both")
        if self.rating is None and self.event is None and self.weight is None and self.count is None:
            raise ValueError("give a rating or an event (or a weight/count)")
        return self


class ItemBody(BaseModel):
    """An item and its attribute links, as the catalogue schema names them."""
    model_config = ConfigDict(extra="forbid", strict=True)

    title: str = Field(min_length=1, pattern=r"\S")
    text: str | None = None
    properties: dict[str, Any] | None = None
    attributes: dict[str, list[str]] | None = None


# -- answers --------------------------------------------------------------------------------------------
class Problem(BaseModel):
    """An RFC 9457 problem document (application/problem+json)."""
    type: str = "about:blank"
    status: int
    title: str
    detail: str


class Health(BaseModel):
    status: str


class CacheStats(BaseModel):
    hits: int
    misses: int
    entries: int


class Ready(BaseModel):
    status: str
    model_version: str
    cache: CacheStats | None = None


class Node(BaseModel):
    labels: list[str]
    key: str
    value: Any
    name: str | None


class Relationship(BaseModel):
    type: str
    start: int
    end: int
    properties: dict[str, Any]


class Path(BaseModel):
    nodes: list[Node]
    relationships: list[Relationship]


class Explanation(BaseModel):
    text: str
    kind: str
    path: Path
    liked_item: int | None = None
    weight: float | None = None
    contribution: float | None = Field(None, description="the served score's drop without the cited item")
    contribution_share: float | None = Field(None, description="that drop as a share of the item's score")
    main: bool | None = Field(None, description="the main reason: the first explanation, when its share > 0")
    shared_degree: int | None = None


class SocialProof(BaseModel):
    people: int = Field(description="how many people the user follows or befriends liked the item (nobody named)")
    text: str


class ExplainedItem(BaseModel):
    user: Id | None = None
    model_version: str | None = None
    id: Id
    title: str | None
    score: float | None
    cold_start: bool | None = None
    explanations: list[Explanation] | None = None
    social: SocialProof | None = None


class Recommendations(BaseModel):
    user: Id
    model_version: str
    items: list[ExplainedItem]


class CypherCFItem(BaseModel):
    id: Id
    title: str | None = None
    score: int


class CypherCF(BaseModel):
    user: Id
    items: list[CypherCFItem]


class InteractionWritten(BaseModel):
    user: Id
    item: Id
    rating: float | None = None
    event: str | None = None
    weight: float | None = None
    ts: int


class Erased(BaseModel):
    user: Id
    erased: bool
    relationships_removed: int | None = None
    derived: dict[str, Any] | None = None
    model_versions_purged: int | None = None
    rejects_rows_removed: int | None = None


class UserRelationship(BaseModel):
    type: str
    direction: str = Field(json_schema_extra={"enum": ["out", "in"]})
    properties: dict[str, Any]
    other: dict[str, Any]


class VersionRows(BaseModel):
    version: str | None = None
    interactions: int | None = None


class UserData(BaseModel):
    user: Id
    properties: dict[str, Any]
    relationships: list[UserRelationship]
    counts: dict[str, Any] | None = None
    model_versions: list[VersionRows] | None = None


class PopularItem(BaseModel):
    id: Id
    title: str | None = None
    likes: int


class Popular(BaseModel):
    items: list[PopularItem]


class Item(BaseModel):
    id: Id
    title: str | None = None
    labels: list[str] | None = None
    properties: dict[str, Any] | None = None
    attributes: dict[str, list[dict[str, Any]]] = Field(description="attribute kind -> [{name, key, order?}]")
    interactions: int | None = None


class SimilarItem(BaseModel):
    id: Id
    title: str | None = None
    score: float
    shared: list[Path]


class Similar(BaseModel):
    item: Id
    items: list[SimilarItem]


class CatalogueDoc(BaseModel):
    name: str
    item: dict[str, Any] | None = None
    signals: dict[str, Any]
    attributes: list[dict[str, Any]]
    category: str | None = None
    social: dict[str, Any] | None = None


# -- responses of one operation --------------------------------------------------------------------------
_TEXT = {400: "malformed parameter or body (the detail says which)", 401: "API key missing or wrong", 404: "unknown user or item",
         503: "Neo4j unreachable or no model version yet"}


def problem_response(status: int) -> dict[str, Any]:
    return {"description": _TEXT[status],
            "content": {"application/problem+json": {"schema": Problem.model_json_schema()}}}


def responses(ok: type[BaseModel], *errors: int, status: int = 200) -> dict[int, Any]:
    """An operation's answers: ``ok`` with ``status``, and problem documents for ``errors`` plus the 400,
    401 and 503 any operation may give (a 400 for the query parameters it ignores is never sent, but
    flask-openapi3 would otherwise document its own 400)."""
    return {status: ok, **{code: problem_response(code) for code in sorted({*errors, 400, 401, 503})}}
