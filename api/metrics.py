"""GET /metrics (Prometheus text format) and the per-request timing and log line of every endpoint.

Series: request latency per endpoint, method and status (``kgrec_http_request_duration_seconds``),
serving stages (``kgrec_serve_stage_duration_seconds``), Neo4j errors (``kgrec_neo4j_errors_total``),
from kgrec.metrics; and, read when scraped, the recommendation cache's hits and misses, the active model
version, and the ingest and refresh outcomes and graph revision recorded in Neo4j by whichever process ran
them.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kgrec import metrics
from kgrec.serve.pipeline import RecommendationService
from kgrec.logs import FIELDS

bp = Blueprint("metrics", __name__)
log = logging.getLogger("kgrec.api")
_REGISTRY = "kgrec.metrics"


@bp.get("/metrics")
def prometheus() -> Response:
    body = generate_latest(_processes()) + generate_latest(current_app.extensions[_REGISTRY])
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def _processes() -> CollectorRegistry:
    """This process's series, or with `kgrec serve --workers N` (PROMETHEUS_MULTIPROC_DIR set) every worker's,
    added up: whichever worker answers the scrape, the request and stage timings are the server's."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def install(app: Flask, service: RecommendationService) -> None:
    """Time and log every request of ``app``; call before any other ``before_request`` hook (an early answer,
    such as a 401, skips the hooks after it)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector(service))
    app.extensions[_REGISTRY] = registry
    app.before_request(_start)
    app.after_request(_finish)
    app.register_blueprint(bp)


def _start() -> None:
    g.kgrec_started = time.perf_counter()


def _finish(response: Response) -> Response:
    seconds = time.perf_counter() - g.get("kgrec_started", time.perf_counter())
    # the route (/users/<user_id>/recommendations), not the URL: one series per endpoint, not per user
    endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
    metrics.REQUEST_SECONDS.labels(endpoint, request.method, str(response.status_code)).observe(seconds)
    log.info("%s %s %s", request.method, request.path, response.status_code,
             extra={FIELDS: {"method": request.method, "path": request.path, "endpoint": endpoint,
                             "status": response.status_code, "ms": round(seconds * 1000, 2)}})
    return response


class ServiceCollector(Collector):
    """What the serving process knows at scrape time: its cache, its model, and the graph's records."""

    def __init__(self, service: RecommendationService):
        self.service = service

    def collect(self) -> Iterator[Metric]:
        stats = self.service.cache.stats()
        cache = CounterMetricFamily("kgrec_cache_requests", "recommendation cache lookups by result",
                                    labels=["result"])
        cache.add_metric(["hit"], stats["hits"])
        cache.add_metric(["miss"], stats["misses"])
        yield cache
        yield GaugeMetricFamily("kgrec_cache_entries", "documents in the recommendation cache", value=stats["entries"])
        model = GaugeMetricFamily("kgrec_model_active", "1 for the model version this process serves "
                                  "(no series before the first request loads one)", labels=["version"])
        if self.service.model_version:
            model.add_metric([self.service.model_version], 1)
        yield model
        yield from self._recorded()

    def _recorded(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("kgrec_neo4j_up", "whether Neo4j answered this scrape's read")
        try:
            row = self.service.graph.read("metrics/outcomes")[0]
        except Exception as exc:  # Neo4j down must not break /metrics: say so in a series instead
            metrics.NEO4J_ERRORS.labels(type(exc).__name__).inc()
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        ingests = CounterMetricFamily("kgrec_ingest_runs", "ingests recorded in the graph, by catalogue and outcome "
                                      "(ok, too_many_rejects, failed)", labels=["catalogue", "outcome"])
        ingest_last = GaugeMetricFamily("kgrec_ingest_last_timestamp_seconds", "when the last ingest with this "
                                        "catalogue and outcome ended", labels=["catalogue", "outcome"])
        for entry in row["ingests"]:
            ingests.add_metric([entry["catalogue"], entry["outcome"]], entry["count"] or 0)
            ingest_last.add_metric([entry["catalogue"], entry["outcome"]], entry["last"] or 0)
        refreshes = CounterMetricFamily("kgrec_refresh_runs", "refresh runs recorded in the graph, by outcome "
                                        "(published, kept, failed)", labels=["outcome"])
        refresh_last = GaugeMetricFamily("kgrec_refresh_last_timestamp_seconds", "when the last refresh run "
                                         "with this outcome finished", labels=["outcome"])
        for entry in row["refreshes"]:
            refreshes.add_metric([entry["status"]], entry["count"])
            refresh_last.add_metric([entry["status"]], entry["last"] or 0)
        yield from (ingests, ingest_last, refreshes, refresh_last)
        if row["graph_revision"] is not None:
            yield GaugeMetricFamily("kgrec_graph_revision", "bumped by every ingest (cached answers are dropped)",
                                    value=row["graph_revision"])
            yield GaugeMetricFamily("kgrec_graph_changed_timestamp_seconds", "when the graph revision last changed",
                                    value=row["graph_changed"] or 0)
