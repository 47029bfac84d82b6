"""Any catalogue, any feedback: the shipped schemas (products, music) on generated catalogues, end to end
on a real Neo4j: ingest -> train (quick) -> recommendations whose paths come from that schema -> an event
posted through the API changes the next list -> a negative event removes an item -> PUT /items makes a new
item explainable before retraining -> erasure removes the user's social edges. Plus the schema loader's
errors, the signal model, a weight-only catalogue, and the scan for movie words outside the movie files."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from kgrec.api.app import create_app
from kgrec.catalogue import signals
from kgrec.catalogue.schema import SchemaError, load, parse
from kgrec.config import REPO_ROOT, Settings
from kgrec.examples import ExampleSize, generate
from kgrec.explain.paths import path_exists
from kgrec.graph import cypher
from kgrec.graph.connection import Graph
from kgrec.ingest.csv_source import build_csv_plan
from kgrec.ingest.rejects import Rejects
from kgrec.ingest.run import ingest_plan
from kgrec.ranking.training import TrainConfig, train_and_publish

SMALL = ExampleSize(items=160, users=120, groups=4, per_user=22, seed=3)


# -- the schema file and the signal model (no database) ---------------------------------------------
def test_shipped_schemas_load_and_name_their_own_links() -> None:
    products, music = load("products"), load("music")
    assert products.by_name["brand"].relationship == "MADE_BY" and products.by_name["category"].broad
    assert products.signals.relationship == "INTERACTED" and products.signals.events["return"].negative
    assert music.by_name["member"].direction == "in" and music.signals.events["play"].counted
    assert load("movies").signals.rating.positive == 4.0


@pytest.mark.parametrize(("change", "key"), [
    (("relationship = \"MADE_BY\"", "relationship = \"MADE BY\""), "attribute[0].relationship"),
    (("direction = \"out\"", "direction = \"sideways\""), "attribute[0].direction"),
    (("[signals]", "[signals]\nbogus = 1"), "signals.'bogus'"),
    (("phrase = \"{item} is also made by {name}\"", "phrase = \"{item} by {maker}\""), "attribute[0].phrase"),
    (("strength = 2.0", "strength = -2.0"), "signals.events.purchase.strength"),
    (("category = \"category\"", "category = \"colour\""), "item.category"),
])
def test_a_bad_schema_is_an_error_naming_the_key(change: tuple[str, str], key: str) -> None:
    text = (REPO_ROOT / "catalogues" / "schemas" / "products.toml").read_text()
    assert change[0] in text
    with pytest.raises(SchemaError, match=re.escape(key)):
        parse(text.replace(change[0], change[1], 1), "products.toml")


def test_signal_values_positives_and_combination() -> None:
    music, products = load("music").signals, load("products").signals
    assert signals.value(music, None, "play", 1) == 1.0
    assert signals.value(music, None, "play", 212) == pytest.approx(1 + __import__("math").log(212))
    assert signals.value(music, None, None, 5) == signals.value(music, None, "play", 5)  # weight-only = plays
    assert signals.value(music, None, "skip", None) < 0 and not signals.is_positive(music, -0.5)
    assert not signals.is_positive(products, signals.value(products, None, "view", 1))
    assert signals.is_positive(products, signals.value(products, None, "purchase", 1))
    bought = signals.Signal(event="purchase", weight=1, ts=10)
    # a view after a purchase does not undo it; a return does; the same counted kind adds up
    assert signals.combine(products, bought, signals.Signal(event="view", weight=1, ts=20)).event == "purchase"
    assert signals.combine(products, bought, signals.Signal(event="return", ts=30)).event == "return"
    assert signals.combine(products, bought, signals.Signal(event="purchase", weight=2, ts=40)).weight == 3
    for bad in [(4.0, "purchase", None), (None, "teleport", None), (None, "view", -1.0), (None, None, None)]:
        with pytest.raises(signals.SignalError):
            signals.check(products, *bad)
    with pytest.raises(signals.SignalError, match="rating must be"):
        signals.check(load("movies").signals, 7.5, None, None)
    assert signals.phrase(music, {"event": "play", "weight": 212}, "Radiohead") == "You played Radiohead 212 times"
    assert signals.phrase(products, {"event": "purchase"}, "Kettle") == "You bought Kettle"


def test_no_movie_words_outside_the_movie_schema_and_adapter() -> None:
    """Movie words appear only in the movie schema, the MovieLens adapter (and its fetcher), docs and tests."""
    words = re.compile(r"\bMovie\b|\bDIRECTED\b|\bACTED_IN\b|\bfilms?\b|\bComedy\b|\bDrama\b|\bThriller\b")
    allowed = {"catalogues/schemas/movies.toml", "ingest/movielens.py", "ingest/fetch.py"}
    package_dirs = ["kgrec", "graph", "ingest", "embeddings", "ranking", "explain", "refresh", "api",
                    "cypher", "privacy", "catalogues"]
    found = []
    for folder in package_dirs:
        for path in sorted((REPO_ROOT / folder).rglob("*")):
            rel = path.relative_to(REPO_ROOT).as_posix()
            if not path.is_file() or rel in allowed or rel.startswith("cypher/browser/") \
                    or path.suffix not in (".py", ".cypher", ".toml", ".html", ".js", ".css"):
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if words.search(line):
                    found.append(f"{rel}:{n}: {line.strip()}")
    assert not found, "movie words outside the movie schema/adapter:\n" + "\n".join(found)


# -- end to end per catalogue kind -------------------------------------------------------------------
def _load(graph: Graph, settings: Settings, kind: str, folder: Path) -> dict[str, Path]:
    graph.run_statements([cypher.load("wipe")])
    files = generate(kind, folder, SMALL)
    with Rejects(folder / "rejects.csv") as rejects:
        plan = build_csv_plan(graph, rejects, catalogue=load(kind), **files)
        report = ingest_plan(graph, plan, settings, rejects, progress=False)
    assert report.reject_total == 0, report.reject_reasons
    return files


def _a_user_with_likes(graph: Graph) -> int:
    """The user with the most positives among those with a social edge."""
    rows = graph.run_text("MATCH (u:User)-[r:INTERACTED]->() WHERE r.event IN ['purchase', 'play'] "
                          "AND EXISTS { (u)-[:FOLLOWS|FRIEND]-() } "
                          "WITH u, count(r) AS n ORDER BY n DESC, u.id LIMIT 1 RETURN u.id AS id")
    return rows[0]["id"]


@pytest.mark.parametrize("kind", ["products", "music"])
def test_catalogue_end_to_end(kind: str, graph: Graph, neo4j_settings: Settings, tmp_path: Path) -> None:
    catalogue = load(kind)
    settings = replace(neo4j_settings, home=tmp_path / "home", train_threads=1, cache_seconds=0)
    _load(graph, settings, kind, tmp_path / kind)
    train_and_publish(graph, settings, replace(TrainConfig.from_settings(settings, quick=True), progress=False),
                      log=lambda m: None)
    client = create_app(settings).test_client()
    assert client.get("/catalogue").get_json()["name"] == kind
    user = _a_user_with_likes(graph)
    doc = client.get(f"/users/{user}/recommendations?k=10").get_json()
    assert len(doc["items"]) == 10
    kinds = {e["kind"] for item in doc["items"] for e in item["explanations"]}
    declared = {a.name for a in catalogue.attributes} | {"co_liked", "your_tag", "shared"}
    assert kinds and kinds <= declared, kinds
    texts = [e["text"] for item in doc["items"] for e in item["explanations"]]
    verb = "You bought" if kind == "products" else "You played"
    assert any(t.startswith(verb) or t.startswith("You put") for t in texts), texts[:5]
    for item in doc["items"][:3]:
        for e in item["explanations"]:
            assert path_exists(graph, e["path"])
            assert e["path"]["relationships"][0]["type"] == catalogue.signals.relationship

    # an event posted through the API changes the next list (fold-in, no retraining)
    first = doc["items"][0]["id"]
    event = "purchase" if kind == "products" else "play"
    assert client.post(f"/users/{user}/interactions", json={"item": first, "event": event, "count": 3}).status_code == 201
    after = [i["id"] for i in client.get(f"/users/{user}/recommendations?k=10").get_json()["items"]]
    assert first not in after and after != [i["id"] for i in doc["items"]]

    # a negative event removes an item even when seen items are not excluded
    second = after[0]
    assert client.post(f"/users/{user}/interactions", json={"item": second, "event": "not_interested"}).status_code == 201
    shown = [i["id"] for i in client.get(f"/users/{user}/recommendations?k=20&exclude_seen=false").get_json()["items"]]
    assert second not in shown

    # bad input: unknown event, a rating in a catalogue without ratings, both at once -> 400 problem+json
    for body in ({"item": first, "event": "teleport"}, {"item": first, "rating": 4},
                 {"item": first, "event": event, "rating": 4}):
        answer = client.post(f"/users/{user}/interactions", json=body)
        assert answer.status_code == 400 and answer.mimetype == "application/problem+json", body

    # PUT /items: a new item, linked to the user's favourite maker, is recommended and explained through it
    spec = catalogue.by_name["brand" if kind == "products" else "label"]
    maker = graph.run_text(
        f"MATCH (:User {{id: $u}})-[r:INTERACTED]->(i:Item)-[:{spec.relationship}]->(m) "
        "WHERE r.event IN ['purchase', 'play'] WITH m, count(*) AS n ORDER BY n DESC, m.name LIMIT 1 "
        "RETURN m.name AS name", {"u": user})[0]["name"]
    body = {"title": "Brand-new thing", "attributes": {spec.name: [maker]}}
    assert client.put("/items/999999", json={"title": "x", "attributes": {"colour": ["red"]}}).status_code == 400
    created = client.put("/items/999999", json=body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["attributes"][spec.name][0]["name"] == maker
    explained = client.get(f"/users/{user}/explanations/999999").get_json()
    assert any(maker in e["text"] and path_exists(graph, e["path"]) for e in explained["explanations"]), explained
    listed = client.get(f"/users/{user}/recommendations?k=50").get_json()["items"]
    assert 999999 in [i["id"] for i in listed]

    # erasure removes the user's social edges, both ways
    assert graph.run_text("MATCH (:User {id: $u})-[r:FOLLOWS|FRIEND]-() RETURN count(r) AS n", {"u": user})[0]["n"]
    assert client.delete(f"/users/{user}").status_code == 200
    assert graph.run_text("MATCH (u:User {id: $u}) RETURN count(u) AS n", {"u": user})[0]["n"] == 0
    assert graph.run_text("MATCH (:User {id: $u})-[r]-() RETURN count(r) AS n", {"u": user})[0]["n"] == 0


def test_social_edges_load_from_csv(empty_graph: Graph, neo4j_settings: Settings, tmp_path: Path) -> None:
    items = tmp_path / "items.csv"
    items.write_text("id,title,genres\n1,A,Style X\n2,B,Style X\n")
    social = tmp_path / "social.csv"
    social.write_text("user,other,kind\n1,2,follows\n3,2,friend\n4,4,follows\n5,6,enemy\n")
    with Rejects(tmp_path / "rejects.csv") as rejects:
        plan = build_csv_plan(empty_graph, rejects, items=items, social=social, catalogue=load("music"))
        report = ingest_plan(empty_graph, plan, neo4j_settings, rejects, progress=False, entities=False)
    assert report.reject_total == 2  # following oneself, an unknown kind
    edges = empty_graph.run_text("MATCH (a:User)-[r]->(b:User) RETURN a.id AS a, type(r) AS t, b.id AS b ORDER BY a")
    assert edges == [{"a": 1, "t": "FOLLOWS", "b": 2}, {"a": 2, "t": "FRIEND", "b": 3}]  # a friendship: lower id first


def test_a_weight_only_catalogue_trains_and_serves(empty_graph: Graph, neo4j_settings: Settings,
                                                   tmp_path: Path) -> None:
    """Play counts as a bare `weight` column (no event): the schema's default implicit kind; no 500 anywhere."""
    files = generate("music", tmp_path, SMALL)
    lines = files["interactions"].read_text().splitlines()
    header = lines[0].split(",")
    out = ["user,item,weight,timestamp"]
    for line in lines[1:]:
        row = dict(zip(header, line.split(",")))
        if row["event"] == "play":
            out.append(f"{row['user']},{row['item']},{row['count']},{row['timestamp']}")
    files["interactions"].write_text("\n".join(out) + "\n")
    settings = replace(neo4j_settings, home=tmp_path / "home", train_threads=1, cache_seconds=0)
    with Rejects(tmp_path / "rejects.csv") as rejects:
        plan = build_csv_plan(empty_graph, rejects, items=files["items"], interactions=files["interactions"],
                              catalogue=load("music"))
        ingest_plan(empty_graph, plan, settings, rejects, progress=False, entities=False)
    assert empty_graph.run_text("MATCH ()-[c:CO_LIKED]->() RETURN count(c) AS n")[0]["n"] > 0
    train_and_publish(empty_graph, settings, replace(TrainConfig.from_settings(settings, quick=True), progress=False),
                      log=lambda m: None)
    client = create_app(settings).test_client()
    answer = client.get("/users/1/recommendations?k=5")
    assert answer.status_code == 200 and len(answer.get_json()["items"]) == 5
    assert client.post("/users/1/interactions", json={"item": 1001, "weight": 4}).status_code == 201
    assert client.get("/users/1/recommendations?k=5").status_code == 200
    assert client.get("/items/popular?k=3").status_code == 200
