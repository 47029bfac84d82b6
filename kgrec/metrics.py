"""Prometheus metrics of a kgrec process (prometheus-client's default registry), importable without Flask.

The serving pipeline times its stages with :func:`stage` / :func:`observe_stage`; the API adds request
latencies and, at scrape time, what other processes did (ingests and refreshes are recorded in the graph,
see :func:`record_ingest`, so the API's ``/metrics`` shows them whichever process ran them).

One process, many threads (``kgrec serve``): the default registry. Several processes on one port (``kgrec
serve --workers N``): prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by the command),
and ``/metrics`` adds up every worker's series.
"""
from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from prometheus_client import Counter, Histogram, disable_created_metrics

if TYPE_CHECKING:
    from kgrec.graph.connection import Graph

F = TypeVar("F", bound=Callable[..., Any])

disable_created_metrics()  # no `_created` twin of every series: half the lines, nothing a dashboard reads

#: request latency buckets (seconds): cached answers take about a millisecond, cold ones up to seconds
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_SECONDS = Histogram("kgrec_http_request_duration_seconds",
                            "API request latency by endpoint (the route, not the URL), method and status",
                            ["endpoint", "method", "status"], buckets=LATENCY_BUCKETS)
STAGE_SECONDS = Histogram("kgrec_serve_stage_duration_seconds",
                          "time spent in each stage of serving a recommendation or an explanation",
                          ["stage"], buckets=LATENCY_BUCKETS)
NEO4J_ERRORS = Counter("kgrec_neo4j_errors_total",
                       "Neo4j failures while serving (each answered 503), by exception type", ["error"])


def observe_stage(name: str, seconds: float) -> None:
    """Record that serving stage ``name`` took ``seconds``."""
    STAGE_SECONDS.labels(name).observe(seconds)


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Time the block as serving stage ``name`` (also when it raises)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        observe_stage(name, time.perf_counter() - start)


def timed(name: str) -> Callable[[F], F]:
    """Decorator: time every call of the function as serving stage ``name``."""
    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with stage(name):
                return fn(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return decorate


def record_ingest(graph: "Graph", catalogue: str, outcome: str) -> None:
    """Count one ingest into ``catalogue`` (movies, products, …) that ended with ``outcome`` (ok, too_many_rejects, failed) in the
    graph, where every serving process's ``/metrics`` reads it. Best effort: the database may be what
    failed, and a lost count must not turn an ingest's result into an error."""
    graph.write_once("metrics/record_ingest", catalogue=catalogue, outcome=outcome)
