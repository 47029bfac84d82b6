"""The serving pipeline (kgrec.serve) on a real Neo4j and a really trained (quick) model: the profile and the
revisions in one read, the response cache across processes, `kgrec serve --workers N` (gunicorn, model files
memory-mapped), and no torch on the request path."""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from conftest import TrainedGraph, free_port
from kgrec.catalogue.store import active
from kgrec.graph.connection import Graph
from synthetic import movie_id

#: guards against a hang only (a worker normally starts in seconds)
START_DEADLINE_S = 120.0


def test_profile_and_revisions_come_in_one_read(trained_graph: TrainedGraph, graph: Graph) -> None:
    from kgrec.serve.pipeline import Interaction, RecommendationService
    from kgrec.serve.profile import read_profile

    catalogue = active(graph)
    profile, revisions = read_profile(graph, 2, catalogue)
    assert profile is not None and len(profile) > 0
    # a cached answer's revisions still hold: only the revisions come back, not the profile
    again, same = read_profile(graph, 2, catalogue, revisions)
    assert again is None and same == revisions
    unseen = next(movie_id(g, k) for g in range(4) for k in range(15) if movie_id(g, k) not in {p[0] for p in profile})
    RecommendationService(graph, trained_graph.settings).add_interaction(
        2, Interaction(item=unseen, ts=2_000_000_000, rating=5.0))
    changed, moved = read_profile(graph, 2, catalogue, revisions)
    assert changed is not None and moved.user == revisions.user + 1 and moved.graph == revisions.graph
    assert (unseen, 5.0, 2_000_000_000) in changed


def test_a_cached_answer_is_recomputed_after_a_write_through_another_service(trained_graph: TrainedGraph,
                                                                            graph: Graph) -> None:
    """Two processes' services (two caches): a write through one is seen by the other's next answer."""
    from kgrec.serve.pipeline import Interaction, RecommendationService

    settings = replace(trained_graph.settings, cache_seconds=600)
    reader, writer = RecommendationService(graph, settings), RecommendationService(graph, settings)
    first = reader.recommend(3, k=5)
    assert reader.recommend(3, k=5) is first  # cached: the same document
    top = first["items"][0]["id"]
    writer.add_interaction(3, Interaction(item=top, ts=2_000_000_001, rating=5.0))
    after = reader.recommend(3, k=5)
    assert after is not first and top not in [i["id"] for i in after["items"]]


def test_an_erasure_through_one_process_refreshes_what_the_others_explain_with(trained_graph: TrainedGraph,
                                                                              graph: Graph) -> None:
    """Co-liked pairs and taggers are graph-derived parts of the snapshot: after an erasure served by another
    process (the graph's revision moves) they are read again before the next answer, same model version."""
    from kgrec.serve.pipeline import Interaction, RecommendationService

    settings = replace(trained_graph.settings, cache_seconds=0)
    eraser, other = RecommendationService(graph, settings), RecommendationService(graph, settings)
    other.recommend(1, k=3)
    before = other.snapshots.loaded()
    eraser.add_interaction(900100, Interaction(item=movie_id(0, 1), ts=2_000_000_000, rating=5.0))
    eraser.erase_user(900100)
    other.recommend(1, k=3)
    after = other.snapshots.loaded()
    assert before is not None and after is not None and after.version == before.version
    assert after.graph_revision is not None and before.graph_revision is not None
    assert after.graph_revision > before.graph_revision and after.index is not before.index


def test_recommending_never_imports_torch(trained_graph: TrainedGraph, tmp_path: Path) -> None:
    """Serving is numpy/scipy: a fresh process that loads the model and answers a request has not imported
    torch, PyKEEN or PyTorch Geometric (each would cost seconds and hundreds of MB per worker)."""
    s = trained_graph.settings
    script = (
        "import sys, json\n"
        "from kgrec.api.app import create_app\n"
        "client = create_app().test_client()\n"
        "doc = client.get('/users/1/recommendations?k=3').get_json()\n"
        "print(json.dumps({'items': len(doc['items']), 'loaded': sorted(m for m in ('torch', 'pykeen', "
        "'torch_geometric') if m in sys.modules)}))\n")
    env = {**os.environ, "NEO4J_URI": s.neo4j_uri or "", "NEO4J_USER": s.neo4j_user,
           "NEO4J_PASSWORD": s.neo4j_password or "", "KGREC_HOME": str(s.home)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"items": 3, "loaded": []}


def test_the_model_is_memory_mapped(trained_graph: TrainedGraph) -> None:
    """The item-item matrix, the largest array, is read from the store's file through the page cache, so N
    worker processes hold one copy of it."""
    from kgrec.ranking.recommender import Recommender

    model = Recommender.load(trained_graph.settings.models_dir / trained_graph.version)
    b = model.components.ease.B
    assert isinstance(b, np.memmap) and b.mode == "r", type(b)


def _get(port: int, path: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json"} if payload else {})
        response = conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw.startswith(b"{") or raw.startswith(b"[") else {})
    finally:
        conn.close()


def test_serve_with_two_workers(trained_graph: TrainedGraph, graph: Graph) -> None:
    """`kgrec serve --workers 2`: two processes answer on one port with the same model version; a rating posted
    to one is reflected by whichever answers next (revisions are read from Neo4j, caches are per process);
    /metrics adds up both workers' stage timings; a killed worker is replaced."""
    s = trained_graph.settings
    port = free_port()
    env = {**os.environ, "NEO4J_URI": s.neo4j_uri or "", "NEO4J_USER": s.neo4j_user,
           "NEO4J_PASSWORD": s.neo4j_password or "", "KGREC_HOME": str(s.home), "KGREC_CACHE_SECONDS": "600"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    kgrec = Path(sys.executable).with_name("kgrec")
    proc = subprocess.Popen([str(kgrec), "serve", "--workers", "2", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()[-3000:] if proc.stdout else ""
            try:
                if _get(port, "/ready")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "kgrec serve --workers 2 did not get ready"
            time.sleep(0.3)
        import psutil

        workers = psutil.Process(proc.pid).children()
        assert len(workers) == 2, workers
        versions, pids = set(), set()
        for user in (1, 2, 3, 4, 5, 6) * 3:
            status, doc = _get(port, f"/users/{user}/recommendations?k=5")
            assert status == 200, doc
            versions.add(doc["model_version"])
        assert versions == {trained_graph.version}
        for round_ in range(6):  # read-after-write whichever worker answers (each holds its own cache)
            status, before = _get(port, "/users/5/recommendations?k=5")
            top = before["items"][0]["id"]
            status, _ = _get(port, "/users/5/interactions", "POST", {"item": top, "rating": 5.0, "ts": 2_000_000_100 + round_})
            assert status == 201
            after = [_get(port, "/users/5/recommendations?k=5")[1] for _ in range(2)]
            assert all(top not in [i["id"] for i in doc["items"]] for doc in after), (top, after)
        metrics = _get_text(port, "/metrics")
        counts = {line.split("{")[1].split("}")[0]: float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                  if line.startswith("kgrec_serve_stage_duration_seconds_count")}
        assert counts.get('stage="profile"', 0) >= 30, counts  # every request's, whichever worker served it
        for worker in workers:
            pids.add(worker.pid)
        os.kill(workers[0].pid, signal.SIGKILL)
        deadline = time.monotonic() + START_DEADLINE_S
        while len([c for c in psutil.Process(proc.pid).children() if c.pid not in pids]) < 1:
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.3)
        for user in (1, 2, 3, 4):
            assert _get(port, f"/users/{user}/recommendations?k=3")[0] == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def _get_text(port: int, path: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path)
        return conn.getresponse().read().decode()
    finally:
        conn.close()
