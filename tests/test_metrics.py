"""GET /metrics in Prometheus format, on a real Neo4j and a really trained (quick) model: request latencies
per endpoint and status, cache hits and misses, the active model, serving stages, Neo4j errors and 503s,
ingest and refresh outcomes recorded in the graph; and the JSON log lines of requests."""
from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from conftest import TrainedGraph, free_port
from kgrec import metrics
from kgrec.api.app import create_app
from kgrec.config import Settings
from kgrec.graph.connection import Graph
from kgrec.logs import JsonFormatter, setup_logging

RECOMMENDATIONS = "/users/<user_id>/recommendations"


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} of one GET /metrics (which must parse as Prometheus text)."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True)) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_cache_and_model_appear(trained_graph: TrainedGraph) -> None:
    client = create_app(trained_graph.settings).test_client()
    before = scrape(client)
    assert client.get("/users/1/recommendations?k=5").status_code == 200  # computed
    assert client.get("/users/1/recommendations?k=5").status_code == 200  # answered from the cache
    assert client.get("/users/999999/recommendations").status_code == 404
    assert client.get("/users/x/recommendations").status_code == 400
    after = scrape(client)

    count = "kgrec_http_request_duration_seconds_count"
    assert value(after, count, endpoint=RECOMMENDATIONS, method="GET", status="200") \
        - value(before, count, endpoint=RECOMMENDATIONS, method="GET", status="200") == 2
    for status in ("404", "400"):
        assert value(after, count, endpoint=RECOMMENDATIONS, method="GET", status=status) \
            - value(before, count, endpoint=RECOMMENDATIONS, method="GET", status=status) == 1
    # one series per route, never per user: no URL with an id in it becomes a label
    assert not any("/users/1/" in dict(labels).get("endpoint", "") for _, labels in after)
    bucket = value(after, "kgrec_http_request_duration_seconds_bucket", endpoint=RECOMMENDATIONS, method="GET",
                   status="200", le="+Inf")
    assert bucket == value(after, count, endpoint=RECOMMENDATIONS, method="GET", status="200")

    # this app's own cache: the first request missed, the second hit
    assert value(after, "kgrec_cache_requests_total", result="miss") >= 1
    assert value(after, "kgrec_cache_requests_total", result="hit") == 1
    assert value(after, "kgrec_cache_entries") >= 1
    version = client.get("/ready").get_json()["model_version"]
    assert value(after, "kgrec_model_active", version=version) == 1
    assert value(after, "kgrec_neo4j_up") == 1


def test_serving_stages_are_timed(trained_graph: TrainedGraph) -> None:
    client = create_app(trained_graph.settings).test_client()
    before = scrape(client)
    with metrics.stage("test_stage"):
        pass
    metrics.observe_stage("test_stage", 0.002)
    # a different k than other tests ask for: computed here, not answered from a cache
    assert client.get("/users/2/recommendations?k=4&paths=2").status_code == 200
    after = scrape(client)
    name = "kgrec_serve_stage_duration_seconds_count"
    assert value(after, name, stage="test_stage") - value(before, name, stage="test_stage") == 2
    for stage in ("profile", "score", "rerank", "candidates", "contributions", "paths", "render"):
        assert value(after, name, stage=stage) - value(before, name, stage=stage) >= 1, stage


def test_ingest_and_refresh_outcomes_come_from_the_graph(trained_graph: TrainedGraph, graph: Graph) -> None:
    """Recorded by whichever process ran them (here: written as the ingest and refresh job write them)."""
    client = create_app(trained_graph.settings).test_client()
    try:
        metrics.record_ingest(graph, "test-catalogue", "ok")
        metrics.record_ingest(graph, "test-catalogue", "ok")
        metrics.record_ingest(graph, "test-catalogue", "failed")
        for run, status in (("test-run-1", "published"), ("test-run-2", "kept")):
            graph.write("refresh/start_run", id=run, started="2026-01-01T00:00:00Z", host="h", pid=1, full=False)
            graph.write("refresh/finish_run", id=run, finished="2026-01-01T01:00:00Z", status=status, counts="{}",
                        metrics="{}", version=None, reason="test")
        after = scrape(client)
    finally:
        graph.run_text("MATCH (n) WHERE (n:IngestOutcome AND n.catalogue = 'test-catalogue') "
                       "OR (n:RefreshRun AND n.id STARTS WITH 'test-run-') DETACH DELETE n", write=True)
    assert value(after, "kgrec_ingest_runs_total", catalogue="test-catalogue", outcome="ok") == 2
    assert value(after, "kgrec_ingest_runs_total", catalogue="test-catalogue", outcome="failed") == 1
    assert value(after, "kgrec_ingest_last_timestamp_seconds", catalogue="test-catalogue", outcome="ok") > 1.7e9
    assert value(after, "kgrec_refresh_runs_total", outcome="published") >= 1
    assert value(after, "kgrec_refresh_runs_total", outcome="kept") >= 1
    assert value(after, "kgrec_refresh_last_timestamp_seconds", outcome="kept") >= 1767229200  # 2026-01-01 01:00Z


def test_neo4j_down_counts_errors_and_503s(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, neo4j_uri=f"bolt://127.0.0.1:{free_port()}", neo4j_password="unused-pw")
    client = create_app(settings).test_client()
    before = scrape(client)
    assert client.get("/users/1/recommendations").status_code == 503
    after = scrape(client)
    errors = sum(v for (name, _), v in after.items() if name == "kgrec_neo4j_errors_total") \
        - sum(v for (name, _), v in before.items() if name == "kgrec_neo4j_errors_total")
    assert errors >= 2  # the request's failure and the scrape's own failed read
    assert value(after, "kgrec_neo4j_up") == 0
    count = "kgrec_http_request_duration_seconds_count"
    assert value(after, count, endpoint=RECOMMENDATIONS, method="GET", status="503") \
        - value(before, count, endpoint=RECOMMENDATIONS, method="GET", status="503") == 1


def test_request_log_lines_are_json_off_a_terminal(trained_graph: TrainedGraph) -> None:
    stream = io.StringIO()  # not a terminal
    root = logging.getLogger()
    saved = root.handlers[:], root.level, logging.getLogger("kgrec").level
    try:
        setup_logging(stream)
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
        create_app(trained_graph.settings).test_client().get("/users/1/recommendations?k=3")
    finally:
        root.handlers[:], _, _ = saved
        root.setLevel(saved[1])
        logging.getLogger("kgrec").setLevel(saved[2])
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    request = [d for d in lines if d.get("endpoint") == RECOMMENDATIONS]
    assert len(request) == 1
    assert request[0]["status"] == 200 and request[0]["method"] == "GET" and request[0]["ms"] >= 0
    assert request[0]["level"] == "INFO" and request[0]["logger"] == "kgrec.api"


def test_library_chatter_stays_out_of_the_log() -> None:
    """Libraries that set their own logger to INFO (PyKEEN does) log only warnings; kgrec logs from INFO."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level, logging.getLogger("kgrec").level
    library = logging.getLogger("some_library.module")
    try:
        setup_logging(stream)
        library.setLevel(logging.INFO)
        library.info("inferred something")
        library.warning("something odd")
        logging.getLogger("kgrec.ingest").info("ingested")
    finally:
        root.handlers[:], _, _ = saved
        root.setLevel(saved[1])
        logging.getLogger("kgrec").setLevel(saved[2])
        library.setLevel(logging.NOTSET)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(d["logger"], d["message"]) for d in lines] == [("some_library.module", "something odd"),
                                                           ("kgrec.ingest", "ingested")]
