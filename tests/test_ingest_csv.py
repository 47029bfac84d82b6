"""`kgrec ingest csv`: anyone's catalogue, with attribute columns, interactions and entity links."""
from __future__ import annotations

import json
import os
from pathlib import Path

from kgrec.cli import main
from kgrec.graph.connection import Graph


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def report() -> dict:
    return json.loads((Path(os.environ["KGREC_HOME"]) / "ingest" / "last-run.json").read_text())


def test_csv_catalogue_attributes_interactions_and_links(empty_graph: Graph, cli_env, tmp_path: Path):
    items = write(tmp_path / "items.csv",
                  "id,title,text,directors,genres,colour\n"
                  '1,Dream Heist,"A thief, directed by Ada Lovelace, enters dreams in Paris.",Ada Lovelace,Thriller|Drama,blue\n'
                  "2,Second Film,Nothing to see.,Grace Hopper,Drama,red|blue\n"
                  "x3,Bad Id,text,,Drama,green\n")
    interactions = write(tmp_path / "interactions.csv",
                         "user,item,rating,weight,timestamp\n"
                         "10,1,4.5,,2020-01-02T03:04:05Z\n"
                         "10,2,,2.0,1600000000\n"
                         "11,2,3,,\n"
                         "11,99,3,,\n"
                         "eleven,1,3,,\n")
    links = write(tmp_path / "links.csv", "item,entity,label,count\n1,Grace Hopper,PERSON,2\n2,ACME Corp,ORG,\n")
    rejects = tmp_path / "rejects.csv"
    code = main(["ingest", "csv", "--items", str(items), "--interactions", str(interactions), "--links", str(links),
                 "--quiet", "--rejects", str(rejects)])
    assert code == 3  # 3 rejects in 10 rows
    lines = rejects.read_text().splitlines()[1:]
    assert len(lines) == 3
    assert "items.csv,4,bad id" in lines[0]
    assert "interactions.csv,5,unknown item id" in lines[1]
    assert "interactions.csv,6,bad id" in lines[2]

    rows = empty_graph.run_text("MATCH (i:Item) RETURN i.id AS id, i.title AS title, labels(i) AS labels ORDER BY id")
    # a new graph's catalogue is the movie schema: its items carry its label too
    assert [(r["id"], r["title"], sorted(r["labels"])) for r in rows] == [(1, "Dream Heist", ["Item", "Movie"]),
                                                                           (2, "Second Film", ["Item", "Movie"])]
    rated = empty_graph.run_text("MATCH (u:User)-[r:RATED]->(i:Item) RETURN u.id AS u, i.id AS i, r.rating AS rating, "
                                 "r.weight AS weight, r.ts AS ts ORDER BY u, i")
    assert rated == [{"u": 10, "i": 1, "rating": 4.5, "weight": None, "ts": 1577934245},
                     {"u": 10, "i": 2, "rating": None, "weight": 2.0, "ts": 1600000000},
                     {"u": 11, "i": 2, "rating": 3.0, "weight": None, "ts": None}]
    # a column the schema does not declare: a generic attribute keyed by column and value
    attrs = empty_graph.run_text("MATCH (i:Item)-[:HAS_ATTRIBUTE]->(a:Attribute) RETURN i.id AS i, a.id AS id, "
                                 "a.name AS name ORDER BY i, name")
    assert attrs == [{"i": 1, "id": "colour:blue", "name": "blue"}, {"i": 2, "id": "colour:blue", "name": "blue"},
                     {"i": 2, "id": "colour:red", "name": "red"}]
    assert empty_graph.run_text("MATCH (:Attribute {name: 'blue'}) RETURN count(*) AS n")[0]["n"] == 1
    genres = empty_graph.run_text("MATCH (i:Item)-[:IN_GENRE]->(g:Genre) RETURN i.id AS i, g.name AS g ORDER BY i, g")
    assert genres == [{"i": 1, "g": "Drama"}, {"i": 1, "g": "Thriller"}, {"i": 2, "g": "Drama"}]
    # the text names a director of the graph: MENTIONS reaches that Person, not a copy
    ada = empty_graph.run_text("MATCH (i:Item {id: 1})-[m:MENTIONS]->(p:Person:Entity {id: 'ada-lovelace'})"
                               "-[:DIRECTED]->(i) RETURN m.count AS n")
    assert ada == [{"n": 1}]
    # a given link to a known name is linked too; an unknown one becomes an Entity
    grace = empty_graph.run_text("MATCH (:Item {id: 1})-[m:MENTIONS]->(p:Person {id: 'grace-hopper'}) RETURN m.count AS n")
    assert grace == [{"n": 2}]
    acme = empty_graph.run_text("MATCH (:Item {id: 2})-[:MENTIONS]->(e:Entity) WHERE NOT e:Person "
                                "RETURN e.id AS id, e.name AS name, e.label AS label")
    assert acme == [{"id": "org:acme corp", "name": "ACME Corp", "label": "ORG"}]
    assert report()["pipeline"].startswith("blank:en")


def test_csv_interactions_alone_reach_items_loaded_before(empty_graph: Graph, cli_env, tmp_path: Path):
    items = write(tmp_path / "items.csv", "id,title\n5,Five\n6,Six\n")
    assert main(["ingest", "csv", "--items", str(items), "--quiet"]) == 0
    interactions = write(tmp_path / "more.csv", "user,item,rating\n1,5,5\n1,6,4\n2,5,4\n")
    assert main(["ingest", "csv", "--interactions", str(interactions), "--quiet"]) == 0
    steps = {s["what"]: s["written"] for s in report()["steps"]}
    assert steps == {":User": 2, "RATED": 3}
    assert empty_graph.run_text("MATCH ()-[r:RATED]->() RETURN count(r) AS n")[0]["n"] == 3


def test_csv_without_required_columns_is_a_clear_error(empty_graph: Graph, cli_env, tmp_path: Path, capsys):
    items = write(tmp_path / "items.csv", "key,name\n1,One\n")
    assert main(["ingest", "csv", "--items", str(items), "--quiet"]) == 2
    assert "missing column(s) id, title" in capsys.readouterr().err
    assert main(["ingest", "csv", "--quiet"]) == 2


def test_changed_text_replaces_its_mentions(empty_graph: Graph, cli_env, tmp_path: Path):
    first = write(tmp_path / "a.csv", "id,title,text,directors\n1,One,A film by Ada Lovelace and Alan Turing.,Ada Lovelace\n"
                                      "2,Two,,Alan Turing\n")
    assert main(["ingest", "csv", "--items", str(first), "--quiet"]) == 0
    mentioned = "MATCH (:Item {id: 1})-[:MENTIONS]->(p) RETURN p.id AS id ORDER BY id"
    assert [r["id"] for r in empty_graph.run_text(mentioned)] == ["ada-lovelace", "alan-turing"]
    second = write(tmp_path / "b.csv", "id,title,text,directors\n1,One,Now only Ada Lovelace.,Ada Lovelace\n")
    assert main(["ingest", "csv", "--items", str(second), "--quiet"]) == 0
    assert [r["id"] for r in empty_graph.run_text(mentioned)] == ["ada-lovelace"]
    assert report()["stale_mentions"] == 1


def test_an_unknown_spacy_pipeline_is_a_clear_error(empty_graph: Graph, cli_env, tmp_path: Path, monkeypatch, capsys):
    items = write(tmp_path / "i.csv", "id,title,text\n1,One,Some text.\n")
    monkeypatch.setenv("KGREC_SPACY_MODEL", "no_such_pipeline_xyz")
    assert main(["ingest", "csv", "--items", str(items), "--quiet"]) == 2
    assert "no_such_pipeline_xyz" in capsys.readouterr().err
    assert empty_graph.run_text("MATCH (i:Item) RETURN count(i) AS n")[0]["n"] == 1
