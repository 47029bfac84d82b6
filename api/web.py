"""The web page, served by the API process: a user's recommendations with a picture of each explanation
path, actions with the catalogue's own signals, an item page with similar items, erasure with a
confirmation step, and the service's status. Server-rendered (Jinja templates, inline SVG), no JavaScript.

The page is a client of the REST API: it calls the API's endpoints in-process, so it shows exactly what
the API answers, with the same validation; a problem document becomes a clear message on the page.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from kgrec.api.app import service
from kgrec.api.docs import openapi_document
from kgrec.api.pathview import browser_link, match_cypher, picture
from kgrec.config import Settings

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/ui/static")

#: how many sample users the start page offers, category values the filter lists, and names an item's
#: fact (e.g. its tags) lists before "and N more"
SAMPLE_USERS, CATEGORY_VALUES, FACT_ITEMS = 8, 100, 15
#: what the page assumes until the API describes its catalogue (GET /catalogue): MovieLens-style ratings
DEFAULT_CATALOGUE: dict[str, Any] = {
    "name": "movies",
    "signals": {"rating": {"min": 0.5, "max": 5.0, "step": 0.5, "positive": 4.0}, "events": []},
    "attributes": [{"name": "genre", "label": "Genre", "relationship": "IN_GENRE"}],
    "category": "genre",
}
#: the events "Not for me" sends, the first the catalogue declares (else its lowest rating)
NOT_FOR_ME_EVENTS = ("not_interested", "dislike")
#: the pages load nothing from elsewhere and run no script
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                           "frame-ancestors 'none'; base-uri 'none'")


class PageError(Exception):
    """A failure the page shows as a message (HTTP status, title, what happened)."""

    def __init__(self, status: int, title: str, detail: str):
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


@dataclass
class Answer:
    """One in-process API answer: its status and JSON body (a problem document when status >= 400)."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def detail(self) -> str:
        body = self.body if isinstance(self.body, dict) else {}
        return str(body.get("detail") or body.get("title") or f"HTTP {self.status}")

    def json(self) -> Any:
        """The body of a successful answer; a failed one becomes a PageError."""
        if not self.ok:
            title = self.body.get("title", "Error") if isinstance(self.body, dict) else "Error"
            raise PageError(self.status, title, self.detail)
        return self.body


def api(method: str, path: str, query: dict[str, Any] | None = None, body: Any = None) -> Answer:
    """Call one of the API's own endpoints in-process (with the API key when one is set)."""
    settings: Settings = current_app.extensions["kgrec.settings"]
    headers = {"X-API-Key": settings.api_key} if settings.api_key else {}
    url = path + ("?" + urlencode({k: v for k, v in query.items() if v not in (None, "")}) if query else "")
    response = current_app.test_client().open(url, method=method, json=body, headers=headers)
    return Answer(response.status_code, response.get_json(silent=True))


# -- the catalogue's signals and category -------------------------------------------------------------
@dataclass
class Catalogue:
    """What the page offers to do with an item, and which attribute the category filter uses."""

    name: str
    rating: dict[str, float] | None
    events: list[dict[str, Any]] = field(default_factory=list)
    category: str | None = None
    category_label: str | None = None
    category_relationship: str | None = None

    @classmethod
    def current(cls) -> "Catalogue":
        """The catalogue the API describes (GET /catalogue), or MovieLens-style ratings until it does."""
        answer = api("GET", "/catalogue")
        return cls.from_doc(answer.body if answer.ok and isinstance(answer.body, dict) else DEFAULT_CATALOGUE)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "Catalogue":
        signals = doc.get("signals") or {}
        category = doc.get("category")
        attribute = next((a for a in doc.get("attributes") or [] if a.get("name") == category), {})
        return cls(name=str(doc.get("name", "catalogue")), rating=signals.get("rating"),
                   events=list(signals.get("events") or []), category=category,
                   category_label=attribute.get("label"), category_relationship=attribute.get("relationship"))

    @property
    def rating_values(self) -> list[float]:
        if not self.rating:
            return []
        low, high, step = (float(self.rating[k]) for k in ("min", "max", "step"))
        count = int(round((high - low) / step)) + 1 if step > 0 else 1
        return [round(low + i * step, 6) for i in range(count)]

    @property
    def positive_events(self) -> list[str]:
        return [e["name"] for e in self.events if not e.get("negative")]

    @property
    def negative_events(self) -> list[str]:
        return [e["name"] for e in self.events if e.get("negative")]

    @property
    def has_not_for_me(self) -> bool:
        return bool(self._not_for_me_event() or self.rating)

    @property
    def other_negative_events(self) -> list[str]:
        """Negative events offered as their own buttons (dislike, skip, return ...)."""
        return [e for e in self.negative_events if e != self._not_for_me_event()]

    def _not_for_me_event(self) -> str | None:
        return next((e for e in NOT_FOR_ME_EVENTS if e in self.negative_events), None)

    def not_for_me(self) -> dict[str, Any]:
        """The interaction that says "not for me": the catalogue's not_interested (or dislike) event, else
        the lowest rating."""
        event = self._not_for_me_event()
        if event:
            return {"event": event}
        if self.rating:
            return {"rating": float(self.rating["min"])}
        raise PageError(400, "Bad Request", f"the {self.name} catalogue has no \"not for me\" signal")


def category_parameter() -> str:
    """`category` once the recommendations endpoint documents it, else its older name `genre`."""
    params = openapi_document()["paths"]["/users/{user_id}/recommendations"]["get"]["parameters"]
    return "category" if any(p["name"] == "category" for p in params) else "genre"


def category_values(catalogue: Catalogue) -> list[str]:
    if not (catalogue.category_label and catalogue.category_relationship):
        return []
    rows = service().graph.read("web/category_values", label=catalogue.category_label,
                                relationship=catalogue.category_relationship, n=CATEGORY_VALUES)
    return [str(r["name"]) for r in rows if r["name"] is not None]


# -- explanations as pictures -----------------------------------------------------------------------
def browser_base(settings: Settings) -> str | None:
    """Where Neo4j Browser is: KGREC_BROWSER_URL, else the local server's (none for another server)."""
    if settings.extra.get("KGREC_BROWSER_URL"):
        return settings.extra["KGREC_BROWSER_URL"]
    return f"http://127.0.0.1:{settings.http_port}/browser/" if settings.uses_local_server else None


def shown_path(path: dict[str, Any]) -> dict[str, Any]:
    """A path as the page shows it: the picture, the Cypher that matches it, the Browser link."""
    settings: Settings = current_app.extensions["kgrec.settings"]
    cypher = match_cypher(path)
    bolt = settings.neo4j_uri or f"bolt://127.0.0.1:{settings.bolt_port}"
    return {"picture": picture(path), "cypher": cypher,
            "link": browser_link(browser_base(settings), bolt, settings.neo4j_user, cypher)}


def card(item: dict[str, Any]) -> dict[str, Any]:
    explanations = [{"text": e["text"], "kind": e["kind"], **shown_path(e["path"])}
                    for e in item.get("explanations", [])]
    kinds = sorted({e["kind"].replace("_", " ") for e in explanations})
    return {"id": item["id"], "title": item["title"], "score": item.get("score"),
            "cold_start": bool(item.get("cold_start")), "kinds": kinds, "explanations": explanations}


# -- pages ------------------------------------------------------------------------------------------
def list_state(source: Any) -> dict[str, str]:
    """The list's controls (user, k, diversity, category) as given, kept across actions."""
    return {name: str(source.get(name, "")).strip() for name in ("user", "k", "diversity", "category")}


def given(state: dict[str, str]) -> dict[str, str]:
    """The controls that have a value (for links back to the same list)."""
    return {k: v for k, v in state.items() if v}


@bp.get("/")
def index() -> tuple[str, int]:
    state = list_state(request.args)
    catalogue = Catalogue.current()
    samples = service().graph.read("web/sample_users", n=SAMPLE_USERS)
    page: dict[str, Any] = {"state": state, "back": given(state), "catalogue": catalogue, "samples": samples,
                            "categories": category_values(catalogue), "alert": None, "items": None}
    if not state["user"]:
        return render_template("web/index.html", **page), 200
    query = {"k": state["k"] or None, "diversity": state["diversity"] or None, "paths": 3,
             category_parameter(): state["category"] or None}
    answer = api("GET", f"/users/{quote(state['user'], safe='')}/recommendations", query)
    if not answer.ok:
        page["alert"] = (f"Unknown user {state['user']}: the graph has no user with this id. Pick one of the "
                         f"sample users, or type another id." if answer.status == 404 else answer.detail)
        return render_template("web/index.html", **page), answer.status
    doc = answer.body
    user = doc["user"]
    page.update(items=[card(i) for i in doc["items"]], user=user, model_version=doc.get("model_version"),
                notice=action_notice(request.args.get("done")),
                export=route_exists(f"/users/{user}/data"))
    return render_template("web/index.html", **page), 200


def action_notice(done: str | None) -> str | None:
    """The message after an action: "<item>:<what>" in the query string, with the item's title."""
    if not done or ":" not in done:
        return None
    item, _, what = done.partition(":")
    answer = api("GET", f"/items/{quote(item, safe='')}")
    title = answer.body.get("title") if answer.ok and isinstance(answer.body, dict) else f"item {item}"
    return (f"Recorded {what} for \u201c{title}\u201d. The list below is computed again from the user's "
            f"interactions as they are now (no retraining).")


@bp.post("/ui/users/<user_id>/interactions")
def act(user_id: str) -> Response:
    form = request.form
    item = form.get("item", "")
    if not item.isdigit():
        raise PageError(400, "Bad Request", "the form did not name an item")
    catalogue = Catalogue.current()
    if form.get("event"):
        signal: dict[str, Any] = {"event": form["event"]}
    elif form.get("not_for_me"):
        signal = catalogue.not_for_me()
    else:
        try:
            signal = {"rating": float(form.get("rating", ""))}
        except ValueError:
            raise PageError(400, "Bad Request", "choose a rating") from None
    api("POST", f"/users/{quote(user_id, safe='')}/interactions", body={"item": int(item), **signal}).json()
    what = f"{signal['event'].replace('_', ' ')}" if "event" in signal else f"a rating of {signal['rating']:g}"
    state = {**list_state(form), "user": user_id, "done": f"{item}:{what}"}
    return redirect(url_for("web.index", **given(state)) + "#results", code=303)


@bp.get("/ui/items/<item_id>")
def item_page(item_id: str) -> str:
    user = request.args.get("user", "").strip()
    item = api("GET", f"/items/{quote(item_id, safe='')}").json()
    similar = api("GET", f"/items/{quote(item_id, safe='')}/similar", {"k": 10, "paths": 3})
    similar_items = [{"id": s["id"], "title": s["title"], "score": s.get("score"),
                      "shared": [{"text": shared_sentence(p), **shown_path(p)} for p in s.get("shared", [])]}
                     for s in similar.body.get("items", [])] if similar.ok else None
    why = None
    if user:
        answer = api("GET", f"/users/{quote(user, safe='')}/explanations/{quote(item_id, safe='')}")
        why = card(answer.body) if answer.ok else {"error": answer.detail}
    return render_template("web/item.html", item=item, facts=item_facts(item), user=user,
                           similar=similar_items, similar_error=None if similar.ok else similar.detail, why=why)


def shared_sentence(path: dict[str, Any]) -> str:
    """What two similar items share, in words: the middle node of their path."""
    middle = path["nodes"][len(path["nodes"]) // 2]
    return f"Both are linked to {middle['labels'][0]} {middle['name']}."


def item_facts(item: dict[str, Any]) -> list[tuple[str, str]]:
    """An item's attributes as (name, text) pairs, whatever the catalogue: nested maps (``properties``,
    ``attributes``) are opened one level, lists of nodes are their names (a long list is cut)."""
    facts = []
    for name, value in item.items():
        if name in ("id", "title"):
            continue
        for key, inner in (value.items() if isinstance(value, dict) else [(name, value)]):
            if inner in (None, [], ""):
                continue
            if isinstance(inner, list):
                names = [str(v.get("name", v)) if isinstance(v, dict) else str(v) for v in inner]
                inner = ", ".join(names[:FACT_ITEMS]) + (f" and {len(names) - FACT_ITEMS} more"
                                                         if len(names) > FACT_ITEMS else "")
            facts.append((key.replace("_", " "), str(inner)))
    return facts


@bp.get("/ui/users/<user_id>/erase")
def erase_confirm(user_id: str) -> str:
    user = parse_user(user_id)
    rows = service().graph.read("web/user_summary", user=user)
    if not rows:
        raise PageError(404, "Not Found", f"Unknown user {user}: the graph has no user with this id.")
    return render_template("web/erase.html", user=user, summary=rows[0], back=given(list_state(request.args)))


@bp.post("/ui/users/<user_id>/erase")
def erase(user_id: str) -> str:
    user = parse_user(user_id)
    if request.form.get("confirm") != str(user):
        raise PageError(400, "Bad Request", "erasure needs the confirmation step: nothing was deleted")
    result = api("DELETE", f"/users/{user}").json()
    return render_template("web/erased.html", user=user, result=result)


@bp.get("/ui/status")
def status() -> str:
    ready = api("GET", "/ready")
    graph = service().graph
    active = graph.read("models/active_version")
    model = dict(active[0]) if active else None
    if model:
        model["metrics"] = _json(model.get("metrics"))
    counts = graph.read("web/graph_counts")
    refresh = graph.read("web/last_refresh")
    settings: Settings = current_app.extensions["kgrec.settings"]
    return render_template("web/status.html", ready=ready, model=model,
                           metrics=metrics_table((model or {}).get("metrics") or {}),
                           nodes=[r for r in counts if r["kind"] == "node"],
                           relationships=[r for r in counts if r["kind"] == "relationship"],
                           refresh=refresh[0] if refresh else None, settings=settings)


def metrics_table(metrics: dict[str, Any]) -> dict[str, Any]:
    """The held-out metrics of every model as rows and columns (numbers only)."""
    models = metrics.get("models") or {}
    columns: list[str] = []
    for values in models.values():
        for name, value in (values or {}).items():
            if isinstance(value, (int, float)) and name not in columns:
                columns.append(name)
    rows = [(name, [values.get(c) for c in columns]) for name, values in models.items() if isinstance(values, dict)]
    return {"columns": columns, "rows": rows,
            "comparison": [(k.replace("_", " "), readable(v)) for k, v in (metrics.get("comparison") or {}).items()],
            "split": [(k.replace("_", " "), readable(v)) for k, v in (metrics.get("split") or {}).items()]}


def readable(value: Any) -> str:
    """A metric value as text: numbers to 4 significant digits, maps as "name value" pairs."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {readable(v)}" for k, v in value.items())
    return str(value)


# -- helpers and errors ------------------------------------------------------------------------------
def parse_user(raw: str) -> int:
    if not raw.isdigit():
        raise PageError(400, "Bad Request", f"user id must be a non-negative integer, got {raw!r}")
    return int(raw)


def route_exists(path: str, method: str = "GET") -> bool:
    """Whether this app serves ``path`` (e.g. an endpoint another part of kgrec adds)."""
    try:
        current_app.url_map.bind("localhost").match(path, method=method)
        return True
    except RequestRedirect:  # e.g. a missing trailing slash: the route exists
        return True
    except HTTPException:  # 404 or 405
        return False


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return None


@bp.before_request
def same_origin_forms() -> None:
    """A form that writes (an action, an erasure) must come from this page, not from another site."""
    if request.method != "POST":
        return
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    if site in ("cross-site", "same-site") or (origin is not None and urlsplit(origin).netloc != request.host):
        raise PageError(403, "Forbidden", "this form must be sent from the kgrec page itself")


@bp.after_request
def page_headers(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.errorhandler(Exception)
def page_error(exc: Exception) -> tuple[str, int]:
    """Any failure of a page is a page that says what happened (never a blank page or a traceback): the
    status and text are the API's own problem document for the same exception."""
    if isinstance(exc, PageError):
        status, title, detail = exc.status, exc.title, exc.detail
    else:
        problem = _api_problem(exc)
        status, title, detail = problem["status"], problem["title"], problem["detail"]
    return render_template("web/error.html", status=status, title=title, detail=detail), status


def _api_problem(exc: Exception) -> dict[str, Any]:
    """The problem document the API's error handlers (api/errors.py) make of ``exc``."""
    handlers = current_app.error_handler_spec.get(None, {}).get(None, {})
    for cls in type(exc).__mro__:
        if cls in handlers:
            body = _json(handlers[cls](exc).get_data(as_text=True))
            if isinstance(body, dict) and "status" in body:
                return body
    current_app.logger.exception("unhandled error in a page")
    return {"status": 500, "title": "Internal Server Error", "detail": "an unexpected error occurred"}
