"""`kgrec ingest … --bulk` (ingest/bulk.py): an empty local database loaded by neo4j-admin's offline importer
holds exactly what the batched UNWIND ingest writes (every node and relationship with its labels, type and
typed properties), trains and serves; a non-empty database and an external server are refused.

The import stops and restarts its server, so these tests run their own local server (not the session's)."""
from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conftest import free_port
from kgrec.catalogue.schema import load
from kgrec.cli import main
from kgrec.config import Settings
from kgrec.examples import ExampleSize, generate
from kgrec.graph import cypher
from kgrec.graph.connection import Graph
from kgrec.graph.embedded import LocalServer
from kgrec.ingest.bulk import write_import_files
from kgrec.ingest.plan import Plan

SMALL = ExampleSize(items=120, users=90, groups=4, per_user=14, seed=5)
#: written by datetime(): differs between any two runs
VOLATILE = {"changed", "last"}


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A local server of this module's own; yields the environment that points `kgrec` at it."""
    home = tmp_path_factory.mktemp("bulk-home")
    env = {"KGREC_HOME": str(home), "KGREC_BOLT_PORT": str(free_port()), "KGREC_HTTP_PORT": str(free_port()),
           "KGREC_NEO4J_LIB": str(Settings.from_env().neo4j_lib), "KGREC_NEO4J_HEAP": "768m",
           "KGREC_NEO4J_PAGECACHE": "256m", "KGREC_SPACY_MODEL": "blank"}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        for key in ("NEO4J_URI", "NEO4J_PASSWORD", "NEO4J_DATABASE"):
            mp.delenv(key, raising=False)
        server = LocalServer.from_settings(Settings.from_env())
        server.install()
        server.start(timeout=300)
        try:
            yield env
        finally:
            LocalServer.from_settings(Settings.from_env()).stop()


@pytest.fixture()
def local_env(own_server: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key, value in own_server.items():
        monkeypatch.setenv(key, value)
    for key in ("NEO4J_URI", "NEO4J_PASSWORD", "NEO4J_DATABASE"):
        monkeypatch.delenv(key, raising=False)
    return Settings.from_env()


def _value(v: Any) -> Any:
    return tuple(map(_value, v)) if isinstance(v, list) else (type(v).__name__, v)


def _props(props: dict[str, Any]) -> tuple:
    return tuple(sorted((k, _value(v)) for k, v in props.items() if k not in VOLATILE))


def fingerprint(settings: Settings) -> tuple[Counter, Counter]:
    """Every node (labels, typed properties) and relationship (type, its two nodes, typed properties)."""
    with Graph.connect(settings) as graph:
        nodes = {r["id"]: (tuple(sorted(r["labels"])), _props(r["props"])) for r in graph.run_text(
            "MATCH (n) RETURN elementId(n) AS id, labels(n) AS labels, properties(n) AS props")}
        rels = Counter((r["type"], nodes[r["a"]], nodes[r["b"]], _props(r["props"])) for r in graph.run_text(
            "MATCH (a)-[r]->(b) RETURN elementId(a) AS a, type(r) AS type, properties(r) AS props, elementId(b) AS b"))
    return Counter(nodes.values()), rels


def wipe(settings: Settings) -> None:
    with Graph.connect(settings) as graph:
        graph.run_statements([cypher.load("wipe")])


def awkward_products(folder: Path) -> dict[str, Path]:
    """A generated shop plus items a CSV writer can get wrong: quotes, commas, accents, a price that is an
    integer beside decimal ones (two column types), missing cells, a column the schema does not declare."""
    files = generate("products", folder, SMALL)
    with files["items"].open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    extra = [
        {"id": "9001", "title": 'A "quoted" title, with a comma', "description": "Ünïcödé — 12 € a piece; "
         "back\\slash", "price": "12", "brand": "Brand 0", "category": "Kitchen", "material": "steel", "colour": "Red"},
        {"id": "9002", "title": "Plain", "description": "", "price": "", "brand": "Brand Zed",
         "category": "Garden|Toys", "material": "", "colour": ""},
        {"id": "9003", "title": "Emoji 🎸", "description": "x", "price": "7.5", "brand": "", "category": "Kitchen",
         "material": "OAK", "colour": "red"},
    ]
    with files["items"].open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*rows[0], "colour"])
        writer.writeheader()
        writer.writerows([*rows, *extra])
    with files["interactions"].open("a", encoding="utf-8", newline="") as f:
        f.write("1,9001,purchase,2,1800000000\n2,9003,view,1,1800000001\n3,777777,view,1,1800000002\n")
    return files


def _ingest(files: dict[str, Path], *flags: str) -> int:
    return main(["ingest", "csv", "--catalogue", "products", "--items", str(files["items"]), "--interactions",
                 str(files["interactions"]), "--social", str(files["social"]), "--quiet", *flags])


def test_bulk_load_equals_unwind_ingest_and_serves(local_env: Settings, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    files = awkward_products(tmp_path / "shop")
    wipe(local_env)
    assert _ingest(files) == 0
    unwind = fingerprint(local_env)
    wipe(local_env)
    assert _ingest(files, "--bulk") == 0
    bulk = fingerprint(local_env)

    labels = Counter(label for (labels, _), n in unwind[0].items() for label in labels for _ in range(n))
    types = Counter(t for (t, *_), n in unwind[1].items() for _ in range(n))
    assert labels["Product"] == SMALL.items + 3 and labels["User"] >= SMALL.users and types["INTERACTED"] > 1000
    assert types["FOLLOWS"] and types["HAS_ATTRIBUTE"] and types["CO_LIKED"]
    assert not unwind[0] - bulk[0] and not bulk[0] - unwind[0], "nodes differ"
    assert not unwind[1] - bulk[1] and not bulk[1] - unwind[1], "relationships differ"
    with Graph.connect(local_env) as graph:
        prices = {r["id"]: r["price"] for r in graph.run_text(
            "MATCH (i:Product) WHERE i.id IN [9001, 9002, 9003] RETURN i.id AS id, i.price AS price")}
        assert prices == {9001: 12, 9002: None, 9003: 7.5} and isinstance(prices[9001], int)
        quoted = graph.run_text("MATCH (i:Item {id: 9001})-[:HAS_ATTRIBUTE]->(a) RETURN i.title AS t, a.id AS a")
        assert quoted == [{"t": 'A "quoted" title, with a comma', "a": "colour:Red"}]
        # the schema was applied after the import: the catalogue's constraints exist
        constraints = {r["name"] for r in graph.run_text("SHOW CONSTRAINTS YIELD name RETURN name")}
        assert {"user_id", "item_id", "product_id", "brand_name"} <= constraints

    # a database that holds anything is refused, and left as it was
    capsys.readouterr()
    assert _ingest(files, "--bulk") == 2
    assert "empty database only" in capsys.readouterr().err
    assert fingerprint(local_env) == bulk

    # the bulk-loaded graph trains and serves
    from kgrec.api.app import create_app
    from kgrec.ranking.training import TrainConfig, train_and_publish

    settings = replace(local_env, train_threads=1, cache_seconds=0)
    with Graph.connect(settings) as graph:
        train_and_publish(graph, settings, replace(TrainConfig.from_settings(settings, quick=True), progress=False),
                          log=lambda m: None)
    client = create_app(settings).test_client()
    doc = client.get("/users/1/recommendations?k=5").get_json()
    assert len(doc["items"]) == 5 and doc["items"][0]["explanations"]


@pytest.mark.slow
def test_bulk_movielens_equals_unwind(local_env: Settings, shared_data: Path) -> None:
    """The MovieLens adapter too: tags (TAGGED by users, HAS_TAG aggregates), billing order on ACTED_IN,
    people two attributes share, entities linked to imported people."""
    args = ["ingest", "movielens", "--source", str(shared_data), "--quiet", "--no-co-liked"]
    wipe(local_env)
    assert main(args) == 0
    unwind = fingerprint(local_env)
    wipe(local_env)
    assert main([*args, "--bulk"]) == 0
    bulk = fingerprint(local_env)
    types = Counter(t for (t, *_), n in unwind[1].items() for _ in range(n))
    assert types["RATED"] > 90_000 and types["TAGGED"] and types["HAS_TAG"] and types["ACTED_IN"]
    assert not unwind[0] - bulk[0] and not bulk[0] - unwind[0], "nodes differ"
    assert not unwind[1] - bulk[1] and not bulk[1] - unwind[1], "relationships differ"


def test_bulk_refuses_an_external_server(cli_env: dict[str, str], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    files = generate("products", tmp_path / "shop", SMALL)
    assert _ingest(files, "--bulk") == 2
    err = capsys.readouterr().err
    assert "--bulk needs the local server" in err and "NEO4J_URI" in err


def test_import_files_keep_each_value_type(tmp_path: Path) -> None:
    """A CSV column has one type: rows whose values differ in type go to separate files, None is no value."""
    plan = Plan(load("products"))
    for item, price in ((1, 12), (2, 12.5), (3, None), (4, 3)):
        plan.add("item", id=item, title=f"t{item}", text=None, price=price, description=None)
    plan.add("user", id=1)
    plan.add("rated", user=1, item=2, rating=None, event="view", weight=1.0, ts=5)
    plan.add("rated", user=1, item=99, rating=None, event="view", weight=1.0, ts=5)  # no such item: left out
    files = write_import_files(plan, tmp_path / "bulk")
    items = [(h.read_text(), d.read_text()) for labels, h, d in files.nodes if "Item" in labels]
    assert len(items) == 2
    headers = sorted(h.strip() for h, _ in items)
    assert headers == [":ID(Item),id:long,title:string,text:string,price:double,description:string",
                       ":ID(Item),id:long,title:string,text:string,price:long,description:string"]
    data = {h.strip().split(",")[4]: d for h, d in items}
    assert data["price:long"].splitlines() == ['"1",1,"t1",,12,', '"3",3,"t3",,,', '"4",4,"t4",,3,']
    assert data["price:double"].splitlines() == ['"2",2,"t2",,12.5,']
    (rated,) = [d.read_text() for rel, _, d in files.relationships if rel == "INTERACTED"]
    assert rated.splitlines() == ['"1","2",,"view",1.0,5']
    assert {s.step: (s.planned, s.written) for s in files.steps}["rated"] == (2, 1)
