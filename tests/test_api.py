"""The REST API end to end on a real Neo4j and a really trained (quick) model: documents, paths, bad input,
real-time interactions, erasure, auth, and a schemathesis run against /openapi.json."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import replace

import hypothesis
import numpy as np
import pytest
import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance
from flask.testing import FlaskClient

from conftest import TrainedGraph
from kgrec.api.app import create_app
from kgrec.config import Settings
from kgrec.explain.paths import path_exists
from kgrec.graph.connection import Graph
from kgrec.privacy.tombstones import reregister
from synthetic import movie_id


@pytest.fixture()
def api_settings(trained_graph: TrainedGraph) -> Settings:
    """Settings of the synthetic movie graph with its quick-trained version active (conftest: trained once
    per session, the graph put back before each test that finds it changed)."""
    return trained_graph.settings


@pytest.fixture()
def client(api_settings: Settings) -> FlaskClient:
    return create_app(api_settings).test_client()


def test_health_and_ready(client: FlaskClient) -> None:
    assert client.get("/health").get_json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.get_json()["model_version"]


def test_recommendations_come_with_literal_paths(client: FlaskClient, graph: Graph) -> None:
    doc = client.get("/users/1/recommendations?k=5").get_json()
    assert doc["user"] == 1 and doc["model_version"] == client.get("/ready").get_json()["model_version"]
    assert len(doc["items"]) == 5
    # user 1 likes comedies and has rated 12 of the 15: the 3 left are explained through their directors;
    # films of other genres share nothing with what user 1 liked, so the graph has no path to show
    explained = [bool(i["explanations"]) for i in doc["items"]]
    assert explained == [True, True, True, False, False]
    for item in doc["items"]:
        assert {"id", "title", "score", "explanations"} <= set(item)
        assert len(item["explanations"]) <= 3, item
        for e in item["explanations"]:
            nodes = e["path"]["nodes"]
            assert nodes[0]["labels"][0] == "User" and nodes[0]["value"] == 1
            assert nodes[-1]["value"] == item["id"]
            assert path_exists(graph, e["path"])
    assert all(1100 <= i["id"] < 1200 for i in doc["items"][:3])
    assert all(e["kind"] in ("director", "genre", "co_liked") for i in doc["items"] for e in i["explanations"])


def test_explain_false_and_paths_parameter(client: FlaskClient) -> None:
    plain = client.get("/users/2/recommendations?k=3&explain=false").get_json()
    assert all("explanations" not in i for i in plain["items"])
    two = client.get("/users/2/recommendations?k=3&paths=1").get_json()
    assert all(len(i["explanations"]) <= 1 for i in two["items"])
    assert [i["id"] for i in plain["items"]] == [i["id"] for i in two["items"]]


def test_genre_filter(client: FlaskClient) -> None:
    comedy = client.get("/users/1/recommendations?k=5&genre=Comedy").get_json()["items"]
    assert comedy and all(1100 <= i["id"] < 1200 for i in comedy)


def _mean_pairwise(ids: list[int], similarity) -> float:
    pairs = [(a, b) for n, a in enumerate(ids) for b in ids[n + 1:]]
    return sum(similarity(a, b) for a, b in pairs) / len(pairs)


def test_diversity_one_gives_a_less_similar_list_than_zero(client: FlaskClient, graph: Graph) -> None:
    """Judged outside the model: by the attribute nodes (genre, director) two items share in the graph,
    and by the cosine of their published embeddings."""
    def ids(diversity: float) -> list[int]:
        items = client.get(f"/users/1/recommendations?k=5&diversity={diversity}").get_json()["items"]
        assert len(items) == 5
        return [i["id"] for i in items]

    plain, varied = ids(0), ids(1)
    assert varied[0] == plain[0]  # the best item still leads
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for r in graph.run_text("MATCH (a:Item)--(x)--(b:Item) WHERE a.id IN $ids AND b.id IN $ids AND a.id <> b.id "
                            "AND NOT x:User AND NOT x:Item RETURN a.id AS a, b.id AS b, count(DISTINCT x) AS n",
                            {"ids": plain + varied}):
        shared[(r["a"], r["b"])] = r["n"]
    vectors = {r["id"]: np.asarray(r["v"]) for r in graph.run_text(
        "MATCH (i:Item) WHERE i.id IN $ids RETURN i.id AS id, i.embedding AS v", {"ids": plain + varied})}
    cosine = lambda a, b: float(vectors[a] @ vectors[b] / np.linalg.norm(vectors[a]) / np.linalg.norm(vectors[b]))  # noqa: E731
    assert _mean_pairwise(varied, lambda a, b: shared[(a, b)]) < _mean_pairwise(plain, lambda a, b: shared[(a, b)])
    assert _mean_pairwise(varied, cosine) < _mean_pairwise(plain, cosine)


def test_one_items_explanations(client: FlaskClient) -> None:
    top = client.get("/users/3/recommendations?k=1").get_json()["items"][0]
    doc = client.get(f"/users/3/explanations/{top['id']}").get_json()
    assert doc["id"] == top["id"] and doc["explanations"] == top["explanations"]


@pytest.mark.parametrize("url, status", [
    ("/users/abc/recommendations", 400),
    ("/users/-1/recommendations", 400),
    ("/users/1/recommendations?k=0", 400),
    ("/users/1/recommendations?k=101", 400),
    ("/users/1/recommendations?k=ten", 400),
    ("/users/1/recommendations?diversity=1.5", 400),
    ("/users/1/recommendations?diversity=nan", 400),
    ("/users/1/recommendations?explain=maybe", 400),
    ("/users/424242/recommendations", 404),
    ("/users/1/explanations/77777777", 404),
    ("/items/77777777", 404),
    ("/items/x", 400),
    ("/items/popular?k=-3", 400),
    ("/no/such/route", 404),
])
def test_bad_input_gets_problem_json(client: FlaskClient, url: str, status: int) -> None:
    response = client.get(url)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]


@pytest.mark.parametrize("body, status", [
    ({"item": movie_id(0, 1), "rating": 6}, 400),
    ({"item": movie_id(0, 1), "rating": 0}, 400),
    ({"item": "1001", "rating": 4}, 400),
    ({"item": movie_id(0, 1), "rating": 4, "ts": -5}, 400),
    ({"item": movie_id(0, 1), "rating": 4, "extra": 1}, 400),
    ({"rating": 4}, 400),
    ([1, 2], 400),
    ({"item": 77777777, "rating": 4}, 404),
])
def test_bad_interactions_are_refused(client: FlaskClient, body: object, status: int) -> None:
    response = client.post("/users/5/interactions", json=body)
    assert response.status_code == status, response.get_json()


def test_malformed_json_is_400(client: FlaskClient) -> None:
    response = client.post("/users/5/interactions", data="{not json", content_type="application/json")
    assert response.status_code == 400


def test_interactions_change_the_next_recommendations_without_retraining(client: FlaskClient) -> None:
    version = client.get("/ready").get_json()["model_version"]
    before = client.get("/users/4/recommendations?k=6").get_json()["items"]
    first = before[0]["id"]
    posted = client.post("/users/4/interactions", json={"item": first, "rating": 5.0, "ts": 2_000_000_000})
    assert posted.status_code == 201 and posted.get_json()["item"] == first
    after = client.get("/users/4/recommendations?k=5").get_json()
    assert after["model_version"] == version  # no retraining happened
    assert first not in [i["id"] for i in after["items"]]  # it is now seen, so excluded
    # the new rating is in the profile the next scores come from: items listed both times moved
    score_before = {i["id"]: i["score"] for i in before}
    both = [i for i in after["items"] if i["id"] in score_before]
    assert len(both) >= 3 and all(i["score"] != pytest.approx(score_before[i["id"]], abs=1e-6) for i in both), \
        (before, after)


def test_a_new_user_is_folded_in(client: FlaskClient) -> None:
    assert client.get("/users/900001/recommendations").status_code == 404
    for k in range(5):  # a new fan of horror (genre 3)
        response = client.post("/users/900001/interactions", json={"item": movie_id(3, k), "rating": 5})
        assert response.status_code == 201
    items = client.get("/users/900001/recommendations?k=5").get_json()["items"]
    assert len(items) == 5
    horror = [i for i in items if 1300 <= i["id"] < 1400 or i["id"] == 9999]
    assert len(horror) >= 3, items
    assert all(i["explanations"] for i in horror)


def test_cached_documents_are_served_until_something_changes(client: FlaskClient, graph: Graph,
                                                            api_settings: Settings) -> None:
    def stats() -> dict[str, int]:
        return client.get("/ready").get_json()["cache"]

    first = client.get("/users/2/recommendations?k=5").get_json()
    before = stats()
    assert client.get("/users/2/recommendations?k=5").get_json() == first
    assert stats()["hits"] == before["hits"] + 1
    assert client.get("/users/2/recommendations?k=4").get_json() != first  # other parameters: another entry
    graph.write("ingest/bump_revision")  # what every ingest does at its end
    misses = stats()["misses"]
    assert client.get("/users/2/recommendations?k=5").get_json() == first  # recomputed, same graph content
    assert stats()["misses"] == misses + 1
    # another API process erases a user and the operator re-registers the id as a new user (the API never
    # recreates an erased id by itself): this one's cached document of the erased user is not served again
    other = create_app(api_settings).test_client()
    assert client.post("/users/900003/interactions", json={"item": movie_id(1, 1), "rating": 5}).status_code == 201
    erased = client.get("/users/900003/recommendations?k=5").get_json()
    assert other.delete("/users/900003").status_code == 200
    assert other.post("/users/900003/interactions", json={"item": movie_id(3, 1), "rating": 5}).status_code == 404
    assert reregister(graph, api_settings, 900003)
    assert other.post("/users/900003/interactions", json={"item": movie_id(3, 1), "rating": 5}).status_code == 201
    assert client.get("/users/900003/recommendations?k=5").get_json() != erased
    uncached = create_app(replace(api_settings, cache_seconds=0)).test_client()
    uncached.get("/users/2/recommendations?k=5")
    uncached.get("/users/2/recommendations?k=5")
    assert uncached.get("/ready").get_json()["cache"]["hits"] == 0


def test_erasure(client: FlaskClient, graph: Graph) -> None:
    assert client.post("/users/900002/interactions", json={"item": movie_id(1, 1), "rating": 4}).status_code == 201
    erased = client.delete("/users/900002")
    assert erased.status_code == 200 and erased.get_json()["relationships_removed"] == 1
    assert client.get("/users/900002/recommendations").status_code == 404
    assert client.delete("/users/900002").status_code == 404
    assert graph.read("serve/user_exists", user=900002) == []


def test_items_endpoints(client: FlaskClient) -> None:
    item = client.get(f"/items/{movie_id(2, 3)}").get_json()
    # attributes grouped by the catalogue schema's kinds (the movie schema here)
    assert [a["name"] for a in item["attributes"]["genre"]] == ["Drama"]
    assert [a["name"] for a in item["attributes"]["director"]] == ["Director 2-0"]
    assert client.get("/items/popular?k=3&category=Action").get_json() == \
        client.get("/items/popular?k=3&genre=Action").get_json()  # genre: the older name of the filter
    popular = client.get("/items/popular?k=3&category=Action").get_json()["items"]
    assert len(popular) == 3 and all(1000 <= p["id"] < 1100 for p in popular)
    likes = [p["likes"] for p in popular]
    assert likes == sorted(likes, reverse=True)
    similar = client.get(f"/items/{movie_id(2, 3)}/similar?k=4").get_json()
    assert len(similar["items"]) == 4 and movie_id(2, 3) not in [s["id"] for s in similar["items"]]
    for s in similar["items"]:
        for path in s["shared"]:
            assert path["nodes"][0]["value"] == movie_id(2, 3) and path["nodes"][-1]["value"] == s["id"]


def test_cypher_cf_variant_returns_what_the_documented_query_means(client: FlaskClient, graph: Graph) -> None:
    """cypher/serve/cypher_cf.cypher, computed by hand: users who rated an item user 1 rated count once per
    item in common (overlap); an item user 1 has not rated scores the sum of its raters' overlaps; best
    score first, ties by id."""
    rated: dict[int, set[int]] = defaultdict(set)
    for r in graph.run_text("MATCH (u:User)-[:RATED]->(i:Item) RETURN u.id AS u, i.id AS i"):
        rated[r["u"]].add(r["i"])
    mine = rated[1]
    score: Counter[int] = Counter()
    for other, items in rated.items():
        if other != 1 and items & mine:
            for item in items - mine:
                score[item] += len(items & mine)
    expected = sorted(score.items(), key=lambda p: (-p[1], p[0]))[:5]
    doc = client.get("/users/1/recommendations/cypher-cf?k=5").get_json()
    assert doc["user"] == 1
    assert [(i["id"], i["score"]) for i in doc["items"]] == expected
    titles = {r["id"]: r["title"] for r in graph.run_text("MATCH (i:Item) RETURN i.id AS id, i.title AS title")}
    assert [i["title"] for i in doc["items"]] == [titles[i] for i, _ in expected]
    assert client.get("/users/424242/recommendations/cypher-cf").status_code == 404


def test_api_key(api_settings: Settings) -> None:
    client = create_app(replace(api_settings, api_key="s3cret-key")).test_client()
    assert client.get("/health").status_code == 200
    denied = client.get("/users/1/recommendations?k=1")
    assert denied.status_code == 401 and denied.mimetype == "application/problem+json"
    assert client.get("/users/1/recommendations?k=1", headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.get("/users/1/recommendations?k=1", headers={"X-API-Key": "s3cret-key"}).status_code == 200
    assert client.get("/ready", headers={"Authorization": "Bearer s3cret-key"}).status_code == 200


def test_docs_page_is_local(client: FlaskClient) -> None:
    page = client.get("/docs").get_data(as_text=True)
    assert "openapi.json" in page and "http://" not in page and "https://" not in page


#: bodies whose validity the catalogue decides (which ratings, events and attribute kinds exist), not the
#: document: a body the schema allows may rightly get a 400 there
CATALOGUE_CHECKED = {("POST", "/users/{user_id}/interactions"), ("PUT", "/items/{item_id}")}


def test_openapi_contract(api_settings: Settings) -> None:
    """schemathesis generates requests for every operation of /openapi.json: no 5xx, and every response
    matches the document (status codes, content types, schemas). Every API route is in the document."""
    app = create_app(api_settings)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    served = {(method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)) for rule in app.url_map.iter_rules()
              if rule.endpoint.split(".")[0] in ("health", "users", "items", "catalogue")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert {(op.method.upper(), op.path) for op in operations} == served
    assert CATALOGUE_CHECKED | {("DELETE", "/users/{user_id}")} <= served

    for operation in operations:
        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(max_examples=25, deadline=None, database=None,
                             suppress_health_check=list(hypothesis.HealthCheck))
        def check(case) -> None:
            params = case.path_parameters or {}
            if case.method == "DELETE":  # erase only users made up for the purpose, not the fixture's
                params["user_id"] = 800000 + int(params["user_id"]) % 1000
            elif "user_id" in params and params["user_id"] % 4:  # mostly existing users (1..48), some unknown
                params["user_id"] = 1 + params["user_id"] % 48
            if "item_id" in params and params["item_id"] % 4:  # mostly existing movies, some unknown
                params["item_id"] = movie_id(params["item_id"] % 4, params["item_id"] % 15)
            checked = (case.method.upper(), case.path) in CATALOGUE_CHECKED
            case.call_and_validate(excluded_checks=[positive_data_acceptance] if checked else None)

        check()
