"""The API against a database that dies mid-traffic: 503 with Retry-After, then recovery without a restart."""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from conftest import make_local_server
from graphdata import load_small_graph
from kgrec.api.app import create_app
from kgrec.config import Settings
from kgrec.graph.connection import Graph
from kgrec.graph.schema import apply_schema


@pytest.fixture()
def private_server(tmp_path: Path):
    server = make_local_server(tmp_path / "neo4j")
    server.start()
    yield server
    server.stop()


def test_database_killed_mid_traffic_gives_503_then_recovers(private_server, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, neo4j_uri=private_server.bolt_uri, neo4j_password=private_server.password())
    with Graph.connect(settings) as graph:
        apply_schema(graph)
        load_small_graph(graph)
    app = create_app(settings)
    client = app.test_client()
    assert client.get("/items/popular?k=3").status_code == 200

    statuses: list[int] = []
    retry_after: set[str] = set()
    stop = threading.Event()

    def traffic() -> None:
        # bounded: at most 2,000 requests, and it stops when the test says so
        local = app.test_client()
        for _ in range(2000):
            if stop.is_set():
                return
            response = local.get("/items/popular?k=3")
            statuses.append(response.status_code)
            if response.status_code == 503:
                retry_after.add(response.headers.get("Retry-After", ""))
                assert response.mimetype == "application/problem+json"
            time.sleep(0.02)

    worker = threading.Thread(target=traffic)
    worker.start()
    try:
        time.sleep(1.0)
        os.kill(private_server.pid(), signal.SIGKILL)  # the database dies without warning
        deadline = time.monotonic() + 60
        while 503 not in statuses and time.monotonic() < deadline:
            time.sleep(0.2)
        assert 503 in statuses, "no 503 while the database was down"
        private_server.start()  # same app, same driver: it must recover by itself
        seen = len(statuses)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and 200 not in statuses[seen:]:
            time.sleep(0.2)
    finally:
        stop.set()
        worker.join(timeout=120)
    assert 200 in statuses[seen:], "the API did not recover after the database came back"
    assert set(statuses) <= {200, 503}, f"unexpected statuses: {sorted(set(statuses))}"
    assert retry_after and all(v.isdigit() and int(v) > 0 for v in retry_after)
    assert statuses.index(503) > 0  # it served before the failure
