"""The embedded Neo4j server: lifecycle through the real `kgrec` CLI, its checks, and its safety settings."""
from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import urllib.request
from pathlib import Path

import neo4j
import psutil
import pytest
from neo4j.exceptions import AuthError

from kgrec.config import Settings
from kgrec.graph.embedded import LocalServer, ServerError

from conftest import free_port, make_local_server

KGREC = [sys.executable, "-m", "kgrec.cli"]


def run_kgrec(args: list[str], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(KGREC + args, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture()
def local_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a private local server driven through the CLI (jars shared with the project home)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update({
        "KGREC_HOME": str(tmp_path / "home"),
        "KGREC_NEO4J_LIB": str(Settings.from_env().neo4j_lib),
        "KGREC_BOLT_PORT": str(free_port()),
        "KGREC_HTTP_PORT": str(free_port()),
        "KGREC_NEO4J_HEAP": "768m",
        "KGREC_NEO4J_PAGECACHE": "128m",
    })
    return env


def test_start_status_idempotent_browser_auth_loopback_stop(local_env: dict[str, str]) -> None:
    LocalServer.from_settings(Settings.from_env(local_env)).install()
    started = run_kgrec(["neo4j", "start"], local_env)
    assert started.returncode == 0, started.stderr
    try:
        status = json.loads(run_kgrec(["neo4j", "status", "--json"], local_env).stdout)
        assert status["running"] is True
        assert status["bolt_uri"] == f"bolt://127.0.0.1:{local_env['KGREC_BOLT_PORT']}"
        assert status["browser_url"] == f"http://127.0.0.1:{local_env['KGREC_HTTP_PORT']}/browser/"
        pid = status["pid"]
        assert isinstance(pid, int) and psutil.pid_exists(pid)

        # idempotent: a second start finds the same server
        again = run_kgrec(["neo4j", "start"], local_env)
        assert again.returncode == 0 and "already running" in again.stdout
        assert json.loads(run_kgrec(["neo4j", "status", "--json"], local_env).stdout)["pid"] == pid

        # the generated password is stored readable by the owner only, and it works; a wrong one is refused
        password_file = Path(status["password_file"])
        assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
        password = password_file.read_text().strip()
        assert len(password) >= 16
        with neo4j.GraphDatabase.driver(status["bolt_uri"], auth=("neo4j", password)) as driver:
            records, _, _ = driver.execute_query("RETURN 41 + 1 AS answer")
            assert records[0]["answer"] == 42
        with neo4j.GraphDatabase.driver(status["bolt_uri"], auth=("neo4j", password + "x")) as driver:
            with pytest.raises(AuthError):
                driver.verify_connectivity()

        # the CLI reads the password file by itself
        one = run_kgrec(["cypher", "RETURN 1 AS one", "--json"], local_env)
        assert one.returncode == 0, one.stderr
        assert json.loads(one.stdout) == [{"one": 1}]

        # Neo4j Browser is served
        with urllib.request.urlopen(status["browser_url"], timeout=10) as response:
            assert response.status == 200
            assert b"Neo4j Browser" in response.read()

        # every listening socket of the server is on loopback
        listening = [c for c in psutil.Process(pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
        assert {c.laddr.port for c in listening} >= {int(local_env["KGREC_BOLT_PORT"]),
                                                     int(local_env["KGREC_HTTP_PORT"])}
        assert all(c.laddr.ip in ("127.0.0.1", "::ffff:127.0.0.1", "::1") for c in listening), listening
    finally:
        stopped = run_kgrec(["neo4j", "stop"], local_env)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert json.loads(run_kgrec(["neo4j", "status", "--json"], local_env).stdout) | {"home": None} == {
        "running": False, "pid": None, "home": None,
        "bolt_uri": status["bolt_uri"], "browser_url": status["browser_url"], "user": "neo4j",
        "password_file": status["password_file"]}
    assert "not running" in run_kgrec(["neo4j", "stop"], local_env).stdout


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    server = make_local_server(tmp_path / "neo4j")
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", server.bolt_port))
        blocker.listen()
        with pytest.raises(ServerError, match=rf"port {server.bolt_port} \(Bolt\).*already in use"):
            server.start(timeout=30)
    assert server.pid() is None


def test_missing_jars_is_a_clear_error(tmp_path: Path) -> None:
    server = LocalServer(home=tmp_path / "neo4j", lib=tmp_path / "no-jars", bolt_port=free_port(),
                         http_port=free_port())
    with pytest.raises(ServerError, match="jars are missing.*kgrec neo4j install"):
        server.start(timeout=30)


@pytest.mark.parametrize("version_line, message", [
    ('openjdk version "11.0.22" 2024-01-16', "needs Java 17 or newer, but .* is Java 11"),
    ('java version "1.8.0_401"', "needs Java 17 or newer, but .* is Java 8"),
])
def test_old_java_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   version_line: str, message: str) -> None:
    java_home = tmp_path / "jdk"
    (java_home / "bin").mkdir(parents=True)
    java = java_home / "bin" / "java"
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(java_home))
    server = make_local_server(tmp_path / "neo4j")
    with pytest.raises(ServerError, match=message):
        server.start(timeout=30)


def test_no_java_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "nowhere"))
    with pytest.raises(ServerError, match="Java 17 or newer is needed"):
        make_local_server(tmp_path / "neo4j").start(timeout=30)


def test_external_uri_starts_nothing_locally(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEO4J_")}
    env.update({"NEO4J_URI": f"bolt://127.0.0.1:{free_port()}", "NEO4J_PASSWORD": "whatever-123",
                "KGREC_HOME": str(tmp_path)})
    start = run_kgrec(["neo4j", "start"], env)
    assert start.returncode == 1 and "NEO4J_URI is set" in start.stderr
    status = json.loads(run_kgrec(["neo4j", "status", "--json"], env).stdout)
    assert status == {"running": False, "bolt_uri": env["NEO4J_URI"], "browser_url": None, "pid": None,
                      "external": True}
    dead = run_kgrec(["cypher", "RETURN 1"], env)
    assert dead.returncode == 1 and "not reachable" in dead.stderr
