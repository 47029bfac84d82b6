"""Erasure that stays erased (kgrec.privacy), against a real Neo4j: tombstones keep an erased user out of
every later ingest (CSV, MovieLens, refresh), derived data is recomputed at erasure, model versions lose the
user's rows, the export shows what the graph holds, the audit finds what remains, and the API guards it.

Every test writes its own small generated sources (no shared data)."""
from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import replace
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from kgrec.api.app import create_app
from kgrec.api.commands import is_loopback
from kgrec.cli import main
from kgrec.config import Settings
from kgrec.graph.connection import Graph
from kgrec.ingest.csv_source import build_csv_plan
from kgrec.ingest.movielens import build_plan
from kgrec.ingest.rejects import Rejects
from kgrec.ingest.run import IngestReport, ingest_plan
from kgrec.privacy.audit import audit_user
from kgrec.privacy.erase import erase_user
from kgrec.privacy.feeds import SKIP_REASON
from kgrec.privacy.models import versions_holding
from kgrec.privacy.tombstones import ErasureKeyMismatch, key_path

ERASED = 7  # the user every test erases
GENRES = ["Action", "Comedy", "Drama"]
DAY = 86400
TWIN_A, TWIN_B = 31, 32  # liked by exactly users 7, 8, 9: a CO_LIKED pair that needs user 7
PAIR_A, PAIR_B = 33, 34  # liked by users 7, 8, 9, 10: still a pair without user 7, with one user fewer
MIN_USERS = 3


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def ratings(n_users: int = 24, seed: int = 1) -> list[tuple[int, int, float, int]]:
    """(user, item, rating, ts): each user likes six films of one genre and dislikes two others; users 7-10
    also like the twin films that make the CO_LIKED pairs above."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(1, n_users + 1):
        fav = u % 3
        liked = [1 + 10 * fav + int(k) for k in rng.choice(10, size=6, replace=False)]
        others = [1 + 10 * g + int(rng.integers(10)) for g in range(3) if g != fav]
        picks = [(i, float(rng.choice([4.0, 4.5, 5.0]))) for i in liked] + [(i, 2.0) for i in others]
        picks += [(i, 5.0) for i in ((TWIN_A, TWIN_B) if u in (7, 8, 9) else ())]
        picks += [(i, 4.0) for i in ((PAIR_A, PAIR_B) if u in (7, 8, 9, 10) else ())]
        rows += [(u, i, r, (1000 + 10 * n) * DAY + u) for n, (i, r) in enumerate(picks)]
    return rows


SOCIAL = [(ERASED, 8, "follows"), (9, ERASED, "follows"), (8, 10, "friend")]


def csv_source(folder: Path) -> Path:
    """items.csv, interactions.csv and social.csv of a small movie catalogue (one malformed rating of the
    erased user, so a rejects file holds their id)."""
    folder.mkdir(parents=True, exist_ok=True)
    items = [[1 + 10 * g + k, f"{GENRES[g]} film {k}", f"A {GENRES[g].lower()} story.", f"Director {g}-{k // 5}",
              GENRES[g]] for g in range(3) for k in range(10)]
    items += [[i, f"Twin film {i}", "Two of a kind.", "Director twin", "Drama"] for i in (TWIN_A, TWIN_B, PAIR_A, PAIR_B)]
    write_csv(folder / "items.csv", ["id", "title", "text", "directors", "genres"], items)
    rows = [[u, i, r, ts] for u, i, r, ts in ratings()] + [[ERASED, 1, "not-a-number", 5]]
    write_csv(folder / "interactions.csv", ["user", "item", "rating", "timestamp"], rows)
    write_csv(folder / "social.csv", ["user", "other", "kind"], [list(s) for s in SOCIAL])
    return folder


def erased_rows() -> int:
    """The erased user's rows a later ingest of csv_source skips: ratings and social edges either way."""
    return sum(1 for u, *_ in ratings() if u == ERASED) + sum(1 for s in SOCIAL if ERASED in s[:2])


@pytest.fixture()
def settings(neo4j_settings: Settings, tmp_path: Path) -> Settings:
    return replace(neo4j_settings, home=tmp_path / "home", spacy_model="blank", colike_min_users=MIN_USERS,
                   colike_top=50, train_threads=1, cache_seconds=0)


def ingest_csv(graph: Graph, settings: Settings, folder: Path) -> IngestReport:
    with Rejects(settings.rejects_dir / "ingest.csv") as rejects:
        plan = build_csv_plan(graph, rejects, items=folder / "items.csv", interactions=folder / "interactions.csv",
                              social=folder / "social.csv")
        return ingest_plan(graph, plan, settings, rejects, progress=False)


def co_liked(graph: Graph) -> dict[tuple[int, int], int]:
    rows = graph.run_text("MATCH (a:Item)-[c:CO_LIKED]->(b:Item) RETURN a.id AS a, b.id AS b, c.users AS users")
    return {(r["a"], r["b"]): r["users"] for r in rows}


def recount(rows: list[tuple[int, int, float, int]], without: int) -> dict[tuple[int, int], int]:
    """CO_LIKED by hand: pairs liked (rating >= 4) by at least MIN_USERS common users (no cap: each item has
    fewer than 50 partners here)."""
    likes: dict[int, set[int]] = {}
    for u, i, r, _ in rows:
        if u != without and r >= 4:
            likes.setdefault(i, set()).add(u)
    pairs = {(a, b): len(likes[a] & likes[b]) for a, b in combinations(sorted(likes), 2)}
    return {p: n for p, n in pairs.items() if n >= MIN_USERS}


def user_node(graph: Graph, user: int) -> bool:
    return bool(graph.run_text("MATCH (u:User {id: $u}) RETURN u.id AS id", {"u": user}))


def test_erasure_holds_through_reingest_and_recomputes_co_liked(empty_graph: Graph, settings: Settings,
                                                               tmp_path: Path) -> None:
    source = csv_source(tmp_path / "src")
    first = ingest_csv(empty_graph, settings, source)
    assert first.rejects_file and str(ERASED) in Path(first.rejects_file).read_text()
    assert co_liked(empty_graph) == recount(ratings(), without=0)
    assert co_liked(empty_graph)[(TWIN_A, TWIN_B)] == 3

    erasure = erase_user(empty_graph, settings, ERASED)
    assert erasure is not None and erasure.relationships == erased_rows()
    assert erasure.rejects_rows == 1  # the malformed row's raw text held the id
    assert str(ERASED) + ",1,not-a-number" not in Path(first.rejects_file).read_text()
    # derived data: the pair that needed the erased user is gone, the others hold a recount without them
    after = co_liked(empty_graph)
    assert after == recount(ratings(), without=ERASED)
    assert (TWIN_A, TWIN_B) not in after and after[(PAIR_A, PAIR_B)] == 3
    # the tombstone is a keyed hash: no id in clear anywhere on the node
    stones = [r["p"] for r in empty_graph.run_text("MATCH (e:ErasedUser) RETURN properties(e) AS p")]
    assert len(stones) == 1 and set(stones[0]) == {"hash", "erased"}
    assert stones[0]["hash"] not in (hashlib.sha256(str(ERASED).encode()).hexdigest(), str(ERASED))
    assert key_path(settings).stat().st_mode & 0o777 == 0o600

    second = ingest_csv(empty_graph, settings, source)
    assert not user_node(empty_graph, ERASED)
    assert second.skipped[SKIP_REASON] == erased_rows()
    assert empty_graph.run_text("MATCH (:User)-[r:FOLLOWS|FRIEND]->(:User) RETURN count(r) AS n")[0]["n"] == 1
    assert co_liked(empty_graph) == recount(ratings(), without=ERASED)
    # the rejected row of the erased user is read again, but does not reach the new rejects file
    assert second.rejects_file is None or "not-a-number" not in Path(second.rejects_file).read_text()
    assert audit_user(empty_graph, settings, ERASED).clean
    # an ingest report holds counts (a count may equal the id) and text; only text can name the user
    report = settings.home / "ingest" / "last-run.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps({"labels": {"User": ERASED}, "notes": {"sources": ["interactions.csv"]}}))
    assert audit_user(empty_graph, settings, ERASED).clean
    report.write_text(json.dumps({"notes": {"odd": f"kept rows of userId={ERASED}"}}))
    assert audit_user(empty_graph, settings, ERASED).traces == [f"ingest report {report}: names the user"]


def test_api_cannot_recreate_an_erased_user_unless_the_operator_reregisters(
        empty_graph: Graph, settings: Settings, tmp_path: Path, cli_env, monkeypatch, capsys) -> None:
    ingest_csv(empty_graph, settings, csv_source(tmp_path / "src"))
    client = create_app(settings).test_client()
    erased = client.delete(f"/users/{ERASED}")
    assert erased.status_code == 200 and erased.get_json()["relationships_removed"] == erased_rows()
    post = client.post(f"/users/{ERASED}/interactions", json={"item": 1, "rating": 4})
    assert post.status_code == 404 and post.mimetype == "application/problem+json"
    assert "reregister" in post.get_json()["detail"] and not user_node(empty_graph, ERASED)
    assert client.post("/users/424242/interactions", json={"item": 1, "rating": 4}).status_code == 201

    monkeypatch.setenv("KGREC_HOME", str(settings.home))  # the same erasure key as the API's
    assert main(["privacy", "reregister", "--user", str(ERASED)]) == 0
    assert main(["privacy", "reregister", "--user", "424242"]) == 1  # never erased
    assert client.post(f"/users/{ERASED}/interactions", json={"item": 1, "rating": 4}).status_code == 201
    # a feed still cannot bring the old rows back
    report = ingest_csv(empty_graph, settings, tmp_path / "src")
    assert report.skipped[SKIP_REASON] == erased_rows()
    rated = empty_graph.run_text("MATCH (:User {id: $u})-[r]->(i:Item) RETURN i.id AS i", {"u": ERASED})
    assert [r["i"] for r in rated] == [1]
    capsys.readouterr()
    assert main(["privacy", "audit", "--user", str(ERASED)]) == 0  # re-registered: a new user, noted
    assert "re-registered" in capsys.readouterr().out


def test_export_matches_the_graph(empty_graph: Graph, settings: Settings, tmp_path: Path, cli_env, monkeypatch,
                                  capsys) -> None:
    ingest_csv(empty_graph, settings, csv_source(tmp_path / "src"))
    monkeypatch.setenv("KGREC_HOME", str(settings.home))
    client = create_app(settings).test_client()
    doc = client.get("/users/8/data").get_json()
    graph_rels = empty_graph.run_text(
        "MATCH (u:User {id: 8})-[r]-(o) RETURN type(r) AS type, startNode(r) = u AS out, properties(r) AS p, "
        "o.id AS other")
    assert len(doc["relationships"]) == len(graph_rels) == sum(1 for u, *_ in ratings() if u == 8) + 2
    mine = sorted((r["type"], r["direction"], r["other"]["value"], json.dumps(r["properties"], sort_keys=True))
                  for r in doc["relationships"])
    theirs = sorted((r["type"], "out" if r["out"] else "in", r["other"], json.dumps(r["p"], sort_keys=True))
                    for r in graph_rels)
    assert mine == theirs
    assert {("FOLLOWS", "in", ERASED), ("FRIEND", "out", 10)} <= {(t, d, o) for t, d, o, _ in mine}
    rated = next(r for r in doc["relationships"] if r["type"] == "RATED")
    assert rated["other"]["labels"] and "ts" in rated["properties"]
    capsys.readouterr()
    assert main(["privacy", "export", "--user", "8"]) == 0
    assert json.loads(capsys.readouterr().out) == doc
    missing = client.get("/users/424243/data")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


MOVIES = [(1, "Heat (1995)", "Crime|Thriller"), (2, "Ronin (1998)", "Action|Thriller"), (3, "Thief (1981)", "Crime")]
#: the erased user alone tags films 1 and 3 with a decade; film 2's decade is also in another user's tag
TAGS = [(ERASED, 1, "1940s", 100), (ERASED, 2, "heist", 101), (3, 2, "Heist", 102), (ERASED, 3, "1980s", 103),
        (ERASED, 2, "1970s", 104), (3, 2, "the 1970s", 105)]


def movielens_source(root: Path) -> Path:
    ml = root / "ml-latest-small"
    ml.mkdir(parents=True)
    write_csv(ml / "movies.csv", ["movieId", "title", "genres"], [list(m) for m in MOVIES])
    write_csv(ml / "ratings.csv", ["userId", "movieId", "rating", "timestamp"],
              [[u, m, 4.0, 50 + u] for u in (3, ERASED) for m in (1, 2, 3)])
    write_csv(ml / "tags.csv", ["userId", "movieId", "tag", "timestamp"], [list(t) for t in TAGS])
    return root


def test_tag_counts_and_mentions_from_the_users_tags_go(empty_graph: Graph, settings: Settings,
                                                         tmp_path: Path) -> None:
    settings = replace(settings, entity_min_tag_users=1)  # one person's tag names an entity here
    root = movielens_source(tmp_path / "ml")

    def ingest() -> IngestReport:
        with Rejects(tmp_path / "rejects.csv") as rejects:
            return ingest_plan(empty_graph, build_plan(root, rejects), settings, rejects, progress=False)

    def tags() -> dict[tuple[int, str], int]:
        rows = empty_graph.run_text("MATCH (i:Item)-[r:HAS_TAG]->(t:Tag) RETURN i.id AS i, t.name AS t, r.count AS n")
        return {(r["i"], r["t"]): r["n"] for r in rows}

    def mentions() -> set[tuple[int, str]]:
        rows = empty_graph.run_text("MATCH (i:Item)-[:MENTIONS]->(e:Entity) RETURN i.id AS i, e.id AS e")
        return {(r["i"], r["e"]) for r in rows}

    ingest()
    assert tags() == {(1, "1940s"): 1, (2, "heist"): 2, (3, "1980s"): 1, (2, "1970s"): 1, (2, "the 1970s"): 1}
    assert {(1, "date:1940s"), (3, "date:1980s"), (2, "date:1970s")} <= mentions()

    erasure = erase_user(empty_graph, settings, ERASED)
    assert erasure is not None and erasure.tags_removed == 3 and erasure.mentions_removed == 2
    assert tags() == {(2, "heist"): 1, (2, "the 1970s"): 1}
    assert not empty_graph.run_text("MATCH (t:Tag) WHERE t.name IN ['1940s', '1980s', '1970s'] RETURN t")
    left = mentions()
    assert (2, "date:1970s") in left  # another user's tag still names it
    assert not {(1, "date:1940s"), (3, "date:1980s")} & left
    assert not empty_graph.run_text("MATCH (e:Entity) WHERE e.id IN ['date:1940s', 'date:1980s'] RETURN e")

    report = ingest()
    assert report.skipped[SKIP_REASON] == 3 + 4  # three ratings, four tags
    assert tags() == {(2, "heist"): 1, (2, "the 1970s"): 1} and mentions() == left
    assert not user_node(empty_graph, ERASED)


def test_models_lose_the_user_and_refresh_never_sees_them(empty_graph: Graph, settings: Settings, tmp_path: Path,
                                                          cli_env, monkeypatch, capsys) -> None:
    from kgrec.embeddings.kge import KGEModel
    from kgrec.ranking.dataset import Dataset
    from kgrec.ranking.modelstore import load_lightgcn, purge_user
    from kgrec.refresh.job import run_refresh

    source = csv_source(tmp_path / "src")
    monkeypatch.setenv("KGREC_HOME", str(settings.home))
    first = run_refresh(settings, sources=[f"csv:{source}"], quick=True, progress=False, tolerance=1.0)
    assert first.status == "published"
    directory = settings.models_dir / first.version
    n_rows = sum(1 for u, *_ in ratings() if u == ERASED)
    assert versions_holding(empty_graph, settings, ERASED) == {first.version: n_rows}
    before = Dataset.load(directory)

    client = create_app(settings).test_client()
    erased = client.delete(f"/users/{ERASED}")
    assert erased.status_code == 200 and erased.get_json()["model_versions_purged"] == 1
    data = Dataset.load(directory)
    assert ERASED not in data.user_ids and len(data.user_ids) == len(before.user_ids) - 1
    assert len(data.users) == len(before.users) - n_rows == len(np.load(directory / "split.npy"))
    # the other users keep their own rows, under their new index
    other = int(before.user_ids[-1])
    mine_before = sorted(before.item_ids[before.items[before.users == len(before.user_ids) - 1]].tolist())
    assert sorted(data.item_ids[data.items[data.users == len(data.user_ids) - 1]].tolist()) == mine_before
    assert int(data.user_ids[-1]) == other
    assert len(load_lightgcn(directory).user_emb) == len(data.user_ids)
    kge = KGEModel.load(directory / "kge.npz")
    assert kge.user_emb is None or len(kge.user_emb) == len(data.user_ids)
    assert client.get("/users/8/recommendations?k=3").status_code == 200  # the purged version still serves
    assert purge_user(directory, ERASED) == -1  # nothing left to purge: a second run changes nothing

    capsys.readouterr()
    assert main(["privacy", "audit", "--user", str(ERASED)]) == 0
    assert "nothing remains" in capsys.readouterr().out

    second = run_refresh(settings, sources=[f"csv:{source}"], quick=True, progress=False, tolerance=1.0)
    assert second.status == "published" and second.version != first.version
    assert ERASED not in Dataset.load(settings.models_dir / second.version).user_ids
    assert second.counts[f"csv:{source}"]["skipped"][SKIP_REASON] == erased_rows()

    # a planted trace: a rejects file with the user's row, then the User node itself
    write_csv(settings.rejects_dir / "planted.csv", ["file", "line", "reason", "raw"],
              [["ratings.csv", 3, "bad number", f"{ERASED},2,x,5"]])
    capsys.readouterr()
    assert main(["privacy", "audit", "--user", str(ERASED)]) == 1
    assert "planted.csv" in capsys.readouterr().out
    (settings.rejects_dir / "planted.csv").unlink()
    empty_graph.run_text("MERGE (:User {id: $u})", {"u": ERASED}, write=True)
    assert main(["privacy", "audit", "--user", str(ERASED), "--json"]) == 1
    audit = json.loads(capsys.readouterr().out)
    assert not audit["clean"] and any(t.startswith("graph: User node") for t in audit["traces"])


def test_serve_refuses_a_public_bind_without_a_key(monkeypatch, capsys) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("example.org")
    monkeypatch.delenv("KGREC_API_KEY", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 1
    assert "KGREC_API_KEY" in capsys.readouterr().err


def test_writes_and_erasure_need_the_key_when_one_is_set(empty_graph: Graph, settings: Settings,
                                                         tmp_path: Path) -> None:
    ingest_csv(empty_graph, settings, csv_source(tmp_path / "src"))
    client = create_app(replace(settings, api_key="privacy-key")).test_client()
    for method, url, body in (("delete", f"/users/{ERASED}", None), ("get", f"/users/{ERASED}/data", None),
                              ("post", f"/users/{ERASED}/interactions", {"item": 1, "rating": 4})):
        for headers in ({}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer wrong"}):
            denied = getattr(client, method)(url, json=body, headers=headers)
            assert denied.status_code == 401 and denied.mimetype == "application/problem+json"
    assert user_node(empty_graph, ERASED)
    assert client.delete(f"/users/{ERASED}", headers={"X-API-Key": "privacy-key"}).status_code == 200
    assert not user_node(empty_graph, ERASED)


def test_privacy_operations_match_the_openapi_document(empty_graph: Graph, settings: Settings,
                                                       tmp_path: Path) -> None:
    """schemathesis on GET /users/{id}/data and DELETE /users/{id}: no 5xx, every answer as documented."""
    import hypothesis
    import schemathesis

    ingest_csv(empty_graph, settings, csv_source(tmp_path / "src"))
    schema = schemathesis.openapi.from_wsgi("/openapi.json", create_app(settings))
    operations = [op for op in (result.ok() for result in schema.get_all_operations())
                  if op.path in ("/users/{user_id}/data", "/users/{user_id}")]
    assert sorted(op.method.upper() for op in operations) == ["DELETE", "GET"]
    for operation in operations:
        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(max_examples=15, deadline=None, database=None,
                             suppress_health_check=list(hypothesis.HealthCheck))
        def check(case) -> None:
            params = case.path_parameters or {}
            if isinstance(params.get("user_id"), int):
                params["user_id"] = 1 + params["user_id"] % 30  # users 1-24 exist, 25-30 do not
            case.call_and_validate()

        check()


def test_another_erasure_key_is_refused_not_silently_ignored(empty_graph: Graph, settings: Settings,
                                                             tmp_path: Path, cli_env, monkeypatch, capsys) -> None:
    source = csv_source(tmp_path / "src")
    ingest_csv(empty_graph, settings, source)
    assert erase_user(empty_graph, settings, ERASED) is not None
    other = replace(settings, home=tmp_path / "other-home")  # no key file there: a new key would be made
    with pytest.raises(ErasureKeyMismatch, match="KGREC_ERASURE_KEY"):
        ingest_csv(empty_graph, other, source)
    assert not user_node(empty_graph, ERASED)
    given = replace(settings, extra={**settings.extra, "KGREC_ERASURE_KEY": "not-the-key"})
    with pytest.raises(ErasureKeyMismatch):
        erase_user(empty_graph, given, 8)
    assert user_node(empty_graph, 8)
    monkeypatch.setenv("KGREC_HOME", str(other.home))
    assert main(["privacy", "audit", "--user", str(ERASED)]) == 1
    assert "not the one this graph's tombstones were made with" in capsys.readouterr().err
    # the key the tombstones were made with, given explicitly, works anywhere
    key = key_path(settings).read_text().strip()
    same = replace(other, extra={**settings.extra, "KGREC_ERASURE_KEY": key})
    assert ingest_csv(empty_graph, same, source).skipped[SKIP_REASON] == erased_rows()
