"""Stateless API replicas (issue 18): two `kgrec serve` processes behind haproxy (Debian's package, configured by
deploy/haproxy.cfg) on loopback, sharing only Neo4j and the model store (KGREC_MODEL_STORE). A replica killed
under load is taken out by haproxy's health checks and no request fails after that; restarted, it serves again;
a version published by another process (the trainer's publish step) is picked up by both.

haproxy must be installed (`make test` installs it): without it the test fails, it never skips."""
from __future__ import annotations

import csv
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import requests
import yaml

from conftest import TrainedGraph, free_port
from kgrec.config import Settings, local_store_root
from kgrec.graph.connection import Graph
from synthetic import clone_version

REPO_ROOT = Path(__file__).resolve().parents[1]  # the checkout the tests run from
HAPROXY_CFG = REPO_ROOT / "deploy" / "haproxy.cfg"
KGREC = Path(sys.executable).parent / "kgrec"
#: guards against a hang only (a replica starting, a check turning a server DOWN/UP, a version picked up)
DEADLINE_S = 120.0
USERS = [1, 2, 3, 5, 6, 7]
THREADS = 4
#: requests made through haproxy after it marked the killed replica DOWN (all must succeed)
AFTER_DOWN = 120
#: the most requests one load thread makes (the loops are bounded whatever happens)
MAX_PER_THREAD = 3000


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK) else None)
    if not found:
        pytest.fail("haproxy is not installed: `make haproxy` installs Debian's package (as root with apt-get); "
                    "elsewhere install it yourself (apt-get install haproxy)", pytrace=False)
    return found


def wait_until(what: str, check: Callable[[], bool], logs: Callable[[], str] = lambda: "") -> None:
    """Poll ``check`` until it holds; fail (with the logs) only after DEADLINE_S, a guard against a hang."""
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {DEADLINE_S:.0f} s\n{logs()}")
        time.sleep(0.1)


def tail(path: Path, lines: int = 40) -> str:
    return f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


@dataclass
class Replica:
    """One `kgrec serve` process with its own, empty KGREC_HOME: the model store is the only files it shares."""

    name: str
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([str(KGREC), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                                          "--threads", "8"], env=self.env, stdout=out, stderr=subprocess.STDOUT)
        wait_until(f"replica {self.name} answering /health", self.healthy, lambda: tail(self.log))

    def healthy(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, f"replica {self.name} exited\n{tail(self.log)}"
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Balancer:
    """haproxy on loopback with the repository's deploy/haproxy.cfg, in the foreground (-db)."""

    replicas: list[Replica]
    log: Path
    port: int = field(default_factory=free_port)
    stats_port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "KGREC_LB_BIND": f"127.0.0.1:{self.port}", "KGREC_LB_STATS": f"127.0.0.1:{self.stats_port}",
                **{f"KGREC_REPLICA_{n}": f"127.0.0.1:{r.port}" for n, r in enumerate(self.replicas, 1)}}

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([haproxy_binary(), "-db", "-f", str(HAPROXY_CFG)], env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT)

    def status(self, server: str) -> str:
        """The server's status on haproxy's stats page: UP, DOWN, "UP 1/2" (going down) ..."""
        assert self.proc is not None and self.proc.poll() is None, f"haproxy exited\n{tail(self.log)}"
        try:
            text = requests.get(f"http://127.0.0.1:{self.stats_port}/stats;csv", timeout=2).text
        except requests.RequestException:
            return "unreachable"
        rows = csv.DictReader(io.StringIO(text.lstrip("# ")))
        return next((r["status"] for r in rows if r["pxname"] == "kgrec_api" and r["svname"] == server), "missing")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def logs(self) -> str:
        return "\n".join([tail(self.log)] + [tail(r.log) for r in self.replicas])


@dataclass
class Outcome:
    """One request through haproxy: its status (or the error), which replica answered, with which version."""

    after_down: bool
    status: int | str
    server: str | None = None
    version: str | None = None


def recommend(session: requests.Session, port: int, user: int, after_down: bool = False) -> Outcome:
    try:
        r = session.get(f"http://127.0.0.1:{port}/users/{user}/recommendations", params={"k": 3}, timeout=60)
    except requests.RequestException as exc:
        return Outcome(after_down, f"{type(exc).__name__}: {exc}")
    version = r.json().get("model_version") if r.status_code == 200 else None
    return Outcome(after_down, r.status_code, r.headers.get("X-Served-By"), version)


def cut_short(outcome: Outcome) -> bool:
    """The answer's headers had arrived when its replica died: the body ended early (requests reports the
    short read as a ChunkedEncodingError with IncompleteRead)."""
    return isinstance(outcome.status, str) and "IncompleteRead" in outcome.status


def replica_env(settings: Settings, home: Path, store: str) -> dict[str, str]:
    return {**os.environ, "NEO4J_URI": settings.neo4j_uri or "", "NEO4J_USER": settings.neo4j_user,
            "NEO4J_PASSWORD": settings.neo4j_password or "", "KGREC_HOME": str(home), "KGREC_MODEL_STORE": store,
            "KGREC_API_KEY": "", "KGREC_ERASURE_KEY": "replicas-share-one-erasure-key", "PYTHONUNBUFFERED": "1"}


@pytest.fixture()
def cluster(trained_graph: TrainedGraph, tmp_path: Path) -> Iterator[Balancer]:
    """Two replicas of the trained synthetic graph behind haproxy; the store is given as a file:// URI to one
    replica and as a plain path to the other (both name the trainer's models folder)."""
    haproxy_binary()
    store = trained_graph.settings.models_dir
    replicas = [Replica(f"api-{n}", free_port(), replica_env(trained_graph.settings, tmp_path / f"home-{n}", spec),
                        tmp_path / f"api-{n}.log")
                for n, spec in ((1, store.as_uri()), (2, str(store)))]
    balancer = Balancer(replicas, tmp_path / "haproxy.log")
    try:
        for replica in replicas:
            replica.start()
        balancer.start()
        for replica in replicas:
            wait_until(f"haproxy marking {replica.name} UP", lambda r=replica: balancer.status(r.name) == "UP",
                       balancer.logs)
        yield balancer
    finally:
        balancer.stop()
        for replica in replicas:
            replica.stop()


def test_killed_replica_is_taken_out_without_failed_requests_and_rejoins(
        graph: Graph, trained_graph: TrainedGraph, cluster: Balancer) -> None:
    session = requests.Session()
    warm = [recommend(session, cluster.port, u) for u in USERS * 2]
    assert {o.status for o in warm} == {200}, warm
    assert {o.server for o in warm} == {"api-1", "api-2"}, "round robin: both replicas answer"
    assert {o.version for o in warm} == {trained_graph.version}

    # load from THREADS clients; api-1 is SIGKILLed while they run
    outcomes: list[Outcome] = []
    down = threading.Event()
    stop = threading.Event()
    lock = threading.Lock()

    def load(user: int) -> None:
        own = requests.Session()
        for _ in range(MAX_PER_THREAD):
            if stop.is_set():
                return
            after = down.is_set()  # read before the request: it started after haproxy took api-1 out
            outcome = recommend(own, cluster.port, user, after)
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=load, args=(u,)) for u in USERS[:THREADS]]
    for t in threads:
        t.start()
    try:
        wait_until("load running", lambda: len(outcomes) >= 4 * THREADS, cluster.logs)
        killed = cluster.replicas[0]
        killed.kill()
        wait_until("haproxy marking the killed api-1 DOWN", lambda: cluster.status("api-1").startswith("DOWN"),
                   cluster.logs)
        down.set()
        wait_until("requests after api-1 went down", lambda: sum(o.after_down for o in outcomes) >= AFTER_DOWN
                   or not any(t.is_alive() for t in threads), cluster.logs)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=DEADLINE_S)
    after = [o for o in outcomes if o.after_down]
    before = [o for o in outcomes if not o.after_down]
    failed = [o for o in after if o.status != 200]
    assert len(after) >= AFTER_DOWN
    assert not failed, f"{len(failed)} of {len(after)} requests failed after haproxy took api-1 out: {failed[:5]}"
    assert {o.server for o in after} == {"api-2"}
    # the window between the kill and the check: a refused connection, an empty or a half-sent header is
    # retried on api-2 by haproxy (retry-on, GET only). One case no proxy can retry: the replica had already
    # sent the headers of its answer when it died, and haproxy had passed them on; the client sees the body
    # cut short. At most one such request per client (the one in flight at the kill), and nothing else.
    failed_before = [o for o in before if o.status != 200]
    cut = [o for o in failed_before if cut_short(o)]
    assert len(cut) == len(failed_before), (f"{len(failed_before) - len(cut)} of {len(before)} failed before "
                                            f"api-1 was marked DOWN: {[o for o in failed_before if not cut_short(o)]}")
    assert len(cut) <= THREADS, f"{len(cut)} answers cut short by the kill, more than one per client: {cut}"

    # restarted on its port, api-1 rejoins: the checks mark it UP and round robin sends it requests again
    killed.start()
    wait_until("haproxy marking the restarted api-1 UP", lambda: cluster.status("api-1") == "UP", cluster.logs)
    rejoined = [recommend(session, cluster.port, USERS[n % len(USERS)]) for n in range(12)]
    assert {o.status for o in rejoined} == {200}, rejoined
    assert {o.server for o in rejoined} == {"api-1", "api-2"}, rejoined


def test_a_published_version_is_picked_up_by_both_replicas(
        graph: Graph, trained_graph: TrainedGraph, cluster: Balancer, tmp_path: Path) -> None:
    from kgrec.ranking.training import activate

    first = trained_graph.version
    settings = trained_graph.settings
    second = clone_version(settings.models_dir, first, f"replica-{uuid.uuid4().hex[:12]}")
    # the trainer: another process, its own home, the store named by a file:// URI
    trainer_env = replica_env(settings, tmp_path / "trainer-home", settings.models_dir.as_uri())
    try:
        done = subprocess.run([str(KGREC), "models", "activate", second], env=trainer_env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        # the graph records the key in the store, never the trainer's absolute path
        node = graph.run_text("MATCH (v:ModelVersion {id: $id}) RETURN v.key AS key, v.path AS path", {"id": second})
        assert node == [{"key": second, "path": None}]

        session = requests.Session()
        served: dict[str, set[str]] = {"api-1": set(), "api-2": set()}

        def both_serve_second() -> bool:
            for user in USERS:
                outcome = recommend(session, cluster.port, user)
                assert outcome.status == 200, (outcome, cluster.logs())
                served[outcome.server].add(outcome.version)
            return all(second in versions for versions in served.values())

        wait_until(f"both replicas serving {second}", both_serve_second, cluster.logs)
        # once picked up, a replica never goes back to the old version
        latest = [recommend(session, cluster.port, u) for u in USERS * 2]
        assert {(o.status, o.version) for o in latest} == {(200, second)}, latest
        assert {o.server for o in latest} == {"api-1", "api-2"}
    finally:
        activate(graph, first)  # the session's trained graph as the other tests expect it
        shutil.rmtree(settings.models_dir / second, ignore_errors=True)


# -- the model store ------------------------------------------------------------------------------------------
def test_a_graph_from_before_keys_loads_by_its_absolute_path(
        graph: Graph, trained_graph: TrainedGraph, tmp_path: Path) -> None:
    """An old (:ModelVersion) holds an absolute ``path`` and no key; a store that lacks the version (another
    KGREC_MODEL_STORE) still serves it from that path."""
    from kgrec.serve.pipeline import RecommendationService
    from kgrec.ranking.modelstore import locate_version

    version = trained_graph.version
    directory = trained_graph.settings.models_dir / version
    elsewhere = replace(trained_graph.settings, model_store=str(tmp_path / "empty-store"), cache_seconds=0)
    graph.run_text("MATCH (v:ModelVersion {id: $id}) SET v.path = $path REMOVE v.key",
                   {"id": version, "path": str(directory)}, write=True)
    try:
        assert locate_version(elsewhere, version, None, str(directory)) == directory
        service = RecommendationService(graph, elsewhere)
        assert service.recommend(1, k=3)["model_version"] == version
        # a store holding the key wins over a path that no longer exists
        assert locate_version(trained_graph.settings, version, version, "/gone") == directory
    finally:
        graph.run_text("MATCH (v:ModelVersion {id: $id}) SET v.key = $id REMOVE v.path", {"id": version}, write=True)


def test_model_store_uris(tmp_path: Path) -> None:
    assert local_store_root(tmp_path.as_uri()) == tmp_path.resolve()
    assert local_store_root(str(tmp_path)) == tmp_path.resolve()
    assert local_store_root("file://localhost" + str(tmp_path)) == tmp_path.resolve()
    assert Settings.from_env({"KGREC_HOME": str(tmp_path)}).models_dir == tmp_path.resolve() / "models"
    with pytest.raises(ValueError, match="not implemented"):
        Settings.from_env({"KGREC_HOME": str(tmp_path), "KGREC_MODEL_STORE": "s3://bucket/models"}).models_dir
    with pytest.raises(ValueError, match="names no host"):
        local_store_root("file://server/models")


def test_haproxy_template_and_compose_example_agree() -> None:
    """deploy/haproxy.cfg is valid for haproxy, and the compose example gives it every variable it reads and
    runs every replica it names."""
    lines = [line.split("#")[0] for line in HAPROXY_CFG.read_text().splitlines()]
    variables = set(re.findall(r"\$\{(\w+)\}", "\n".join(lines)))
    assert variables == {"KGREC_LB_BIND", "KGREC_LB_STATS", "KGREC_REPLICA_1", "KGREC_REPLICA_2"}
    env = {**os.environ, **{v: f"127.0.0.1:{free_port()}" for v in variables}}
    check = subprocess.run([haproxy_binary(), "-c", "-f", str(HAPROXY_CFG)], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    lb = services["lb"]
    assert set(lb["environment"]) == variables
    assert any(v.startswith("./deploy/haproxy.cfg:") for v in lb["volumes"])
    for n in (1, 2):
        host = lb["environment"][f"KGREC_REPLICA_{n}"].split(":")[0]
        replica = services[host]
        assert replica["command"][:2] == ["kgrec", "serve"]
        assert "KGREC_MODEL_STORE" in replica["environment"]
    assert services["refresher"]["environment"]["KGREC_MODEL_STORE"] == services["api-1"]["environment"]["KGREC_MODEL_STORE"]
