"""Tests run against a real Neo4j server, never a mock. Which one, in order:

1. ``NEO4J_URI`` (+ ``NEO4J_USER``/``NEO4J_PASSWORD``) when set: that server is used as is;
2. else, when a Docker engine answers, a testcontainers ``Neo4jContainer`` (neo4j:5.26-community);
3. else the project's local server (``kgrec.graph.embedded``), started once per test session in a
   temporary home on free ports, and stopped at the end.
"""
from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from kgrec.config import REPO_ROOT, Settings
from kgrec.graph import cypher
from kgrec.graph.connection import Graph
from kgrec.graph.embedded import LocalServer

from graphdata import load_small_graph
from graphstate import GraphStates
from synthetic import synthetic

SHARED_DATA = Path(os.environ.get("KGREC_DATA_DIR") or REPO_ROOT.parent / "shared" / "data")
NEO4J_IMAGE = "neo4j:5.26-community"


def shared_data_dir() -> Path:
    """../shared/data (``KGREC_DATA_DIR``) for a test that reads it. Where it is missing the test is
    skipped, except in CI (``CI=true``), where it fails: CI must run the tests that read the data."""
    if (SHARED_DATA / "ml-latest-small").is_dir():
        return SHARED_DATA
    message = f"no shared data in {SHARED_DATA} (set KGREC_DATA_DIR)"
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{message}; with CI=true the tests that read it must run, not skip", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder; requesting it skips (or, with CI=true, fails) the test where it is missing."""
    return shared_data_dir()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # no engine, no socket, no permission: all mean "use the local server"
        return False


def make_local_server(home: Path, password: str | None = None) -> LocalServer:
    """A local server in its own home on free ports, sharing the jars of the project's home."""
    base = Settings.from_env()
    return LocalServer(home=home, lib=base.neo4j_lib, bolt_port=free_port(), http_port=free_port(),
                       heap="768m", pagecache="256m", initial_password=password)


@pytest.fixture(scope="session")
def neo4j_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings that point at a real, running Neo4j server for the whole test session."""
    base = Settings.from_env()
    home = tmp_path_factory.mktemp("kgrec-home")
    if base.neo4j_uri:
        yield replace(base, home=home)
        return
    if _docker_answers():
        from testcontainers.community.neo4j import Neo4jContainer  # type: ignore[import-not-found]

        password = "kgrec-test-password"
        with Neo4jContainer(NEO4J_IMAGE, password=password) as container:
            yield replace(base, home=home, neo4j_uri=container.get_connection_url(),
                          neo4j_user="neo4j", neo4j_password=password)
        return
    server = make_local_server(home / "neo4j")
    server.install()
    server.start()
    try:
        yield replace(base, home=home, neo4j_uri=server.bolt_uri, neo4j_user="neo4j",
                      neo4j_password=server.password())
    finally:
        server.stop()


@pytest.fixture(scope="session")
def graph(neo4j_settings: Settings) -> Iterator[Graph]:
    """A connected Graph on the session's server."""
    with Graph.connect(neo4j_settings) as g:
        yield g


@pytest.fixture()
def empty_graph(graph: Graph) -> Graph:
    """The session's graph, wiped of all nodes (schema kept) before the test."""
    graph.run_statements([cypher.load("wipe")])
    return graph


@pytest.fixture()
def cli_env(neo4j_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment variables that point the `kgrec` CLI at the session's server."""
    env = {
        "NEO4J_URI": neo4j_settings.neo4j_uri or "",
        "NEO4J_USER": neo4j_settings.neo4j_user,
        "NEO4J_PASSWORD": neo4j_settings.neo4j_password or "",
        "KGREC_HOME": str(neo4j_settings.home),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture()
def tmp_home() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="kgrec-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def graph_states(graph: Graph) -> GraphStates:
    """Which shared content the session graph holds (tests/graphstate.py)."""
    return GraphStates(graph)


@dataclass(frozen=True)
class TrainedGraph:
    """The synthetic graph's trained version and the settings (home, models folder) it lives under."""

    settings: Settings
    version: str


def _load_synthetic(graph: Graph) -> None:
    graph.run_statements([cypher.load("wipe")])
    load_small_graph(graph, **synthetic())


@pytest.fixture(scope="session")
def synthetic_model(graph: Graph, graph_states: GraphStates, neo4j_settings: Settings,
                    tmp_path_factory: pytest.TempPathFactory) -> TrainedGraph:
    """The synthetic graph (tests/synthetic.py) trained in quick mode and published, once per session."""
    from kgrec.ranking.training import TrainConfig, train_and_publish

    settings = replace(neo4j_settings, home=tmp_path_factory.mktemp("synthetic-home"), train_threads=1)
    _load_synthetic(graph)
    config = replace(TrainConfig.from_settings(settings, quick=True), progress=False)
    trained = TrainedGraph(settings, train_and_publish(graph, settings, config, log=lambda m: None))
    graph_states.mark("synthetic-trained", trained)
    return trained


@pytest.fixture()
def trained_graph(graph: Graph, graph_states: GraphStates, synthetic_model: TrainedGraph) -> TrainedGraph:
    """The synthetic graph with the session's trained version published and active, whatever the tests
    before this one wiped or wrote: rebuilt (reloaded and published again, not retrained) when changed."""
    from kgrec.ranking.training import publish

    def rebuild() -> TrainedGraph:
        _load_synthetic(graph)
        publish(graph, synthetic_model.settings, synthetic_model.version, log=lambda m: None)
        return synthetic_model

    return graph_states.ensure("synthetic-trained", rebuild)
