"""The web page in a real browser: headless Chromium (the system's, driven by Playwright) against the API
process really serving on a loopback port, on a real Neo4j with the synthetic graph's trained version.

The browser is Debian's `chromium` (installed by `make test` where apt-get is available; another one with
CHROMIUM=path). Without it, or without Playwright, these tests skip; with CI=true they fail instead."""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.serving import make_server

from conftest import TrainedGraph, free_port
from kgrec.api.app import create_app
from kgrec.api.web import Catalogue
from kgrec.catalogue.schema import load as load_catalogue
from kgrec.config import Settings
from kgrec.graph.connection import Graph
from synthetic import GENRES, PER_GENRE, movie_id

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BROWSER_URL = "http://127.0.0.1:7474/browser/"
#: a user who loved the first film of every genre: every genre's other films are explained through it
WEB_USER, ERASED_USER, UNKNOWN_USER = 900, 901, 424242
USER_COLOUR = "#4C8EDA"  # node.User in cypher/browser/kgrec.grass


def _browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or `make test` as root)"
    return None


MISSING = _browser_missing()
IN_CI = os.environ.get("CI", "").strip().lower() == "true"
# skipped before any fixture is built (no training for nothing); in CI the fixture below fails them instead
needs_browser = pytest.mark.skipif(MISSING is not None and not IN_CI, reason=str(MISSING))


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One headless Chromium with a fresh profile for the module."""
    if MISSING is not None:
        pytest.fail(f"{MISSING}; with CI=true the browser tests must run, not skip", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1200, "height": 900})
        yield context
        context.close()


@dataclass
class Site:
    url: str
    settings: Settings


def serve(settings: Settings) -> Iterator[Site]:
    """The API application (web page included) served for real by a WSGI server in a thread."""
    server = make_server("127.0.0.1", free_port(), create_app(settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_port}", settings)
    finally:
        server.shutdown()
        thread.join()


def add_user(site_settings: Settings, user: int, ratings: dict[int, float]) -> None:
    client = create_app(site_settings).test_client()
    for item, rating in ratings.items():
        response = client.post(f"/users/{user}/interactions", json={"item": item, "rating": rating})
        assert response.status_code == 201, response.get_json()


@pytest.fixture()
def site(trained_graph: TrainedGraph) -> Iterator[Site]:
    """The synthetic graph's trained version, plus WEB_USER (one loved film per genre) and ERASED_USER."""
    settings = replace(trained_graph.settings,
                       extra={**trained_graph.settings.extra, "KGREC_BROWSER_URL": BROWSER_URL})
    add_user(settings, WEB_USER, {movie_id(g, 0): 5.0 for g in range(len(GENRES))})
    add_user(settings, ERASED_USER, {movie_id(0, 1): 4.5, movie_id(1, 1): 2.0})
    yield from serve(settings)


@pytest.fixture()
def page(browser_context: object) -> Iterator[object]:
    """A fresh tab; every request it makes is recorded (the page must load nothing from elsewhere)."""
    tab = browser_context.new_page()
    tab.requested = []
    tab.on("request", lambda r: tab.requested.append(r.url))
    yield tab
    tab.close()


def card_ids(page: object) -> list[int]:
    return [int(x) for x in page.locator("li.card").evaluate_all("els => els.map(e => e.dataset.item)")]


@needs_browser
def test_the_page_loads_ten_cards_each_with_a_path_picture(page: object, site: Site, graph: Graph) -> None:
    page.goto(site.url + "/")
    assert page.locator("nav.samples a").count() > 0  # sample users read from the graph
    # keyboard only: the user field, type, Enter
    page.focus("#user")
    page.keyboard.type(str(WEB_USER))
    page.keyboard.press("Enter")
    page.wait_for_selector("#results")
    cards = page.locator("li.card")
    assert cards.count() == 10
    for i in range(10):
        card = cards.nth(i)
        svg = card.locator("svg.path").first
        assert svg.get_attribute("role") == "img"
        alternative = svg.locator("title").text_content()
        assert alternative.startswith(f"(User {WEB_USER}) -RATED"), alternative
        assert "(Genre: " in alternative or "(Person: " in alternative, alternative
        assert svg.locator("circle").first.get_attribute("fill") == USER_COLOUR
        assert card.locator(".sentence").first.text_content().startswith("You rated")
        assert card.locator(".badge.kind").count() >= 1 and card.locator(".score").count() == 1
    assert all(url.startswith(site.url) for url in page.requested), page.requested


@needs_browser
def test_each_browser_link_opens_the_cypher_of_that_exact_path(page: object, site: Site, graph: Graph) -> None:
    page.goto(f"{site.url}/?user={WEB_USER}&k=3")
    links = page.locator("a.browser-link")
    assert links.count() >= 3
    for i in range(links.count()):
        url = urlsplit(links.nth(i).get_attribute("href"))
        assert f"{url.scheme}://{url.netloc}{url.path}" == BROWSER_URL.rstrip("/") + "/"
        query = parse_qs(url.query)
        assert query["cmd"] == ["edit"]
        cypher = query["arg"][0]
        assert cypher.startswith(f"MATCH p = (n0:User {{id: {WEB_USER}}})-[:RATED]->"), cypher
        assert len(graph.run_text(cypher)) == 1, cypher  # the path exists, and only once


@needs_browser
def test_an_action_changes_the_list_at_once(page: object, site: Site, graph: Graph) -> None:
    page.goto(f"{site.url}/?user={WEB_USER}")
    before = card_ids(page)
    # the catalogue's own signals are offered: its rating scale and each of its positive events
    signals = create_app(site.settings).test_client().get("/catalogue").get_json()["signals"]
    first = page.locator("li.card").first
    rating = signals["rating"]
    assert first.locator("select option").count() == round((rating["max"] - rating["min"]) / rating["step"]) + 1
    for event in (e["name"] for e in signals["events"] if not e["negative"]):
        assert first.locator(f"button[name=event][value={event}]").count() == 1, event
    # by keyboard: Tab to the first "Not for me", Enter
    for _ in range(100):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('not-for-me')"):
            break
    else:
        pytest.fail("Tab never reached a \"Not for me\" button")
    assert page.evaluate("document.activeElement.closest('li.card').dataset.item") == str(before[0])
    page.keyboard.press("Enter")
    page.wait_for_selector(".notice")
    after = card_ids(page)
    assert before[0] not in after and len(after) == 10 and after != before
    assert "Recorded" in page.locator(".notice").text_content()
    assert graph.run_text("MATCH (:User {id: $u})-[r]->(:Item {id: $i}) RETURN count(r) AS n",
                          {"u": WEB_USER, "i": before[0]})[0]["n"] >= 1  # "not for me" is in the graph
    # a rating through the select: the rated item leaves the list too, and the rating is in the graph
    second = page.locator("li.card").nth(1)
    rated = int(second.get_attribute("data-item"))
    second.locator("select").select_option("5.0")
    second.locator("button[name=rate]").click()
    page.wait_for_selector(".notice")
    assert rated not in card_ids(page)
    assert graph.run_text("MATCH (:User {id: $u})-[r:RATED]->(:Item {id: $i}) RETURN r.rating AS rating",
                          {"u": WEB_USER, "i": rated})[0]["rating"] == 5.0


@needs_browser
def test_controls_k_diversity_and_category(page: object, site: Site) -> None:
    page.goto(f"{site.url}/?user={WEB_USER}")
    page.fill("#k", "5")
    page.fill("#diversity", "0.5")
    page.select_option("#category", "Comedy")
    page.click("form.controls button[type=submit]")
    page.wait_for_selector("#results")
    titles = page.locator("li.card h3 a").all_text_contents()
    assert len(titles) == 5 and all(t.startswith("Comedy film") for t in titles), titles
    assert page.locator("#category").input_value() == "Comedy"  # the controls keep their values


@needs_browser
def test_an_unknown_user_shows_the_message(page: object, site: Site) -> None:
    response = page.goto(f"{site.url}/?user={UNKNOWN_USER}")
    assert response.status == 404
    alert = page.locator("[role=alert]")
    assert f"Unknown user {UNKNOWN_USER}" in alert.text_content()
    assert page.locator("form.controls").is_visible()  # the page is still there to try another id
    response = page.goto(f"{site.url}/?user=abc")
    assert response.status == 400 and "integer" in page.locator("[role=alert]").text_content()


@needs_browser
def test_erasure_asks_before_it_deletes(page: object, site: Site, graph: Graph) -> None:
    def exists() -> bool:
        return bool(graph.run_text("MATCH (u:User {id: $u}) RETURN u.id", {"u": ERASED_USER}))

    page.goto(f"{site.url}/?user={ERASED_USER}")
    export = page.request.get(site.url + page.locator("a[download]").get_attribute("href"))
    assert export.status == 200 and export.headers["content-type"].startswith("application/json")
    assert str(ERASED_USER) in export.text()
    page.click("a.erase-link")
    assert page.locator("h1").text_content() == f"Erase user {ERASED_USER}?"
    assert "2 interactions" in page.locator("[role=alert]").inner_text()
    assert exists()  # asking deleted nothing
    page.click("a.cancel")
    assert card_ids(page) and exists()
    page.click("a.erase-link")
    page.click("button.danger")
    assert page.locator("h1").text_content() == f"User {ERASED_USER} erased"
    assert not exists()
    page.goto(f"{site.url}/?user={ERASED_USER}")
    assert f"Unknown user {ERASED_USER}" in page.locator("[role=alert]").text_content()


@needs_browser
def test_the_item_page_shows_similar_items_with_shared_nodes(page: object, site: Site) -> None:
    page.goto(f"{site.url}/?user={WEB_USER}")
    first = page.locator("li.card h3 a").first
    title = first.text_content()
    first.click()
    assert page.locator("h1").text_content() == title
    similar = page.locator("#similar li.card")
    assert similar.count() >= 3
    shared = page.locator("#similar svg.path title").all_text_contents()
    assert shared and all("Genre" in s or "Person" in s for s in shared), shared
    assert page.locator("#why-title").is_visible()  # why this user might like it, with its paths
    facts = dict(zip(page.locator("dl.facts dt").all_text_contents(), page.locator("dl.facts dd").all_text_contents()))
    assert facts["genre"] in GENRES and facts["director"].startswith("Director "), facts  # names, not raw maps


@needs_browser
def test_the_status_page(page: object, site: Site, trained_graph: TrainedGraph, graph: Graph) -> None:
    page.goto(f"{site.url}/ui/status")
    assert trained_graph.version in page.locator(".version").all_text_contents()
    assert page.locator("table.metrics tbody tr").count() >= 2  # the held-out metrics of the version's models
    counts = dict(zip(page.locator(".counts th").all_text_contents(), page.locator(".counts td").all_text_contents()))
    assert int(counts["Item"]) == len(GENRES) * PER_GENRE + 1 and int(counts["RATED"]) > 0
    assert "No refresh has run yet" in page.locator("main").text_content()
    # a refresh run that kept the active version: the page shows its outcome and why
    graph.write("refresh/start_run", id="web-test-run", started="2026-01-02T03:04:05+00:00", host="here", pid=1,
                full=False)
    graph.write("refresh/finish_run", id="web-test-run", finished="2026-01-02T03:09:05+00:00", status="kept",
                counts="{}", metrics="{}", version=None, reason="candidate NDCG@10 0.1 is worse")
    page.reload()
    assert page.locator(".badge.status-kept").text_content() == "kept"
    assert "candidate NDCG@10 0.1 is worse" in page.locator("main").text_content()


@needs_browser
def test_neo4j_down_shows_a_clear_message(page: object, trained_graph: TrainedGraph) -> None:
    down = replace(trained_graph.settings, neo4j_uri=f"bolt://127.0.0.1:{free_port()}")
    for site in serve(down):
        for path in ("/", f"/?user={WEB_USER}", "/ui/status", "/ui/items/1000"):
            response = page.goto(site.url + path)
            assert response.status == 503, path
            assert "unreachable" in page.locator("[role=alert]").text_content()


def test_forms_from_another_site_are_refused(site: Site, graph: Graph) -> None:
    client = create_app(site.settings).test_client()
    response = client.post(f"/ui/users/{ERASED_USER}/erase", data={"confirm": str(ERASED_USER)},
                           headers={"Origin": "http://elsewhere.example"})
    assert response.status_code == 403 and b"from the kgrec page itself" in response.data
    without_confirmation = client.post(f"/ui/users/{ERASED_USER}/erase")
    assert without_confirmation.status_code == 400
    assert graph.run_text("MATCH (u:User {id: $u}) RETURN u.id", {"u": ERASED_USER})


@pytest.mark.parametrize("name, rating_steps, positive, other_negative, category", [
    ("movies", 10, ["like"], ["dislike"], ("Genre", "IN_GENRE")),
    ("products", 0, ["view", "click", "add_to_cart", "purchase", "like"], ["return", "dislike"],
     ("Category", "IN_CATEGORY")),
    ("music", 0, ["play", "like", "share"], ["skip"], ("Style", "PLAYS_STYLE")),
])
def test_each_catalogue_gets_its_own_signals(name: str, rating_steps: int, positive: list[str],
                                             other_negative: list[str], category: tuple[str, str]) -> None:
    """What the page offers for each shipped catalogue schema, as GET /catalogue describes it."""
    catalogue = Catalogue.from_doc(load_catalogue(name).describe())
    assert len(catalogue.rating_values) == rating_steps
    assert catalogue.positive_events == positive and catalogue.other_negative_events == other_negative
    assert catalogue.not_for_me() == {"event": "not_interested"}
    assert (catalogue.category_label, catalogue.category_relationship) == category


def test_without_a_catalogue_the_page_offers_ratings() -> None:
    from kgrec.api.web import DEFAULT_CATALOGUE

    catalogue = Catalogue.from_doc(DEFAULT_CATALOGUE)
    assert catalogue.rating_values[0] == 0.5 and catalogue.rating_values[-1] == 5.0
    assert catalogue.not_for_me() == {"rating": 0.5} and not catalogue.positive_events


def test_browser_cypher_quotes_names_and_takes_any_path_shape(graph: Graph) -> None:
    """The Cypher of a path is valid for awkward names and for relationships that do not chain node to node."""
    from kgrec.api.pathview import describe, match_cypher

    nodes = [{"labels": ["User"], "key": "id", "value": 7, "name": "User 7"},
             {"labels": ["Movie", "Item"], "key": "id", "value": 1, "name": "A"},
             {"labels": ["Tag"], "key": "name", "value": "o'brien \"cut\" \\ x", "name": "o'brien"},
             {"labels": ["Movie", "Item"], "key": "id", "value": 2, "name": "B"}]
    chain = {"nodes": nodes, "relationships": [{"type": "RATED", "start": 0, "end": 1},
                                               {"type": "HAS_TAG", "start": 1, "end": 2},
                                               {"type": "HAS_TAG", "start": 3, "end": 2}]}
    star = {"nodes": nodes, "relationships": [{"type": "RATED", "start": 0, "end": 1},
                                              {"type": "HAS_TAG", "start": 1, "end": 2},
                                              {"type": "RATED", "start": 0, "end": 3}]}
    for path in (chain, star):
        query = match_cypher(path)
        graph.run_text("EXPLAIN " + query)  # parses and plans
        assert "(n2:Tag {name: 'o\\'brien \"cut\" \\\\ x'})" in query, query
    assert match_cypher(chain).startswith("MATCH p = (n0:User {id: 7})-[:RATED]->(n1:Movie:Item {id: 1})")
    assert describe(chain) == "(User 7) -RATED→ (Movie: A) -HAS_TAG→ (Tag: o'brien) ←HAS_TAG- (Movie: B)"
    assert describe(star).count(";") == 2
