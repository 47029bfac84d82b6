"""The embedded default: a real Neo4j 5.26 Community server run by kgrec as a child process.

The jars come from Maven Central through ``graph/maven/pom.xml``; the server is
``org.neo4j.server.CommunityEntryPoint`` on Java 17+, bound to 127.0.0.1, with authentication on.
Its home (conf, data, logs, run) lives under ``Settings.neo4j_home``.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kgrec.config import Settings

#: package data, so an installed wheel finds it as well as a source checkout
POM = resources.files("kgrec.graph").joinpath("maven", "pom.xml")
ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
MIN_JAVA = 17
# JVM options the official distribution passes (neo4j.conf server.jvm.additional) that matter on Java 17+.
JVM_OPTIONS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
]


class ServerError(RuntimeError):
    """A local-server problem with a message meant for the person at the terminal."""


@dataclass
class LocalServer:
    """One local Neo4j server: its folders, ports and process."""

    home: Path
    lib: Path
    bolt_port: int = 7687
    http_port: int = 7474
    heap: str = "1g"
    pagecache: str = "512m"
    initial_password: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "LocalServer":
        return cls(
            home=settings.neo4j_home,
            lib=settings.neo4j_lib,
            bolt_port=settings.bolt_port,
            http_port=settings.http_port,
            heap=settings.neo4j_heap,
            pagecache=settings.neo4j_pagecache,
            initial_password=settings.neo4j_password,
        )

    # -- paths ---------------------------------------------------------------------------------
    @property
    def conf_dir(self) -> Path:
        return self.home / "conf"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def pid_file(self) -> Path:
        return self.home / "run" / "neo4j.pid"

    @property
    def password_file(self) -> Path:
        return self.home / "password"

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def browser_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/browser/"

    # -- installation --------------------------------------------------------------------------
    def jars_installed(self) -> bool:
        return (self.lib / ".complete").exists() and any(self.lib.glob("neo4j-server-*.jar"))

    def install(self, quiet: bool = True) -> None:
        """Fetch the server and Browser jars with Maven (idempotent; re-fetches when the pom changed)."""
        with resources.as_file(POM) as pom:
            self._install(pom, quiet)

    def _install(self, pom: Path, quiet: bool) -> None:
        stamp = self.lib / ".complete"
        pom_digest = _digest(pom)
        if self.jars_installed() and stamp.read_text().strip() == pom_digest:
            return
        mvn = shutil.which("mvn")
        if mvn is None:
            raise ServerError("Maven (mvn) is not installed: it fetches the Neo4j jars from Maven Central. "
                              "Install it (e.g. `apt-get install maven`) or set NEO4J_URI to use another server.")
        if self.lib.exists():
            shutil.rmtree(self.lib)
        self.lib.mkdir(parents=True)
        cmd = [mvn, "-B", "-f", str(pom), "dependency:copy-dependencies", f"-DoutputDirectory={self.lib}"]
        if quiet:
            cmd.insert(1, "-q")
        result = subprocess.run(cmd, capture_output=quiet, text=True)
        if result.returncode != 0:
            tail = (result.stdout or "")[-3000:] + (result.stderr or "")[-2000:]
            raise ServerError(f"mvn could not fetch the Neo4j jars (exit {result.returncode}):\n{tail}")
        stamp.write_text(pom_digest + "\n")

    # -- checks --------------------------------------------------------------------------------
    def java_command(self) -> str:
        java_home = os.environ.get("JAVA_HOME")
        java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
        if not java or not Path(java).exists():
            raise ServerError(f"Java {MIN_JAVA} or newer is needed to run the local Neo4j, and no `java` was found "
                              "(install OpenJDK 17, or set JAVA_HOME).")
        try:
            out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ServerError(f"could not run {java} -version: {exc}") from exc
        version = _java_major(out.stderr + out.stdout)
        if version is None:
            raise ServerError(f"could not read the Java version from `{java} -version`: {out.stderr.strip()!r}")
        if version < MIN_JAVA:
            raise ServerError(f"Neo4j 5.26 needs Java {MIN_JAVA} or newer, but {java} is Java {version} "
                              "(set JAVA_HOME to a Java 17 or 21 installation).")
        return java

    def _check_ports_free(self) -> None:
        for name, port in (("Bolt", self.bolt_port), ("HTTP", self.http_port)):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                # as the server will: lingering TIME_WAIT connections of a killed server do not block it
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    env = "KGREC_BOLT_PORT" if name == "Bolt" else "KGREC_HTTP_PORT"
                    raise ServerError(f"port {port} ({name}) on 127.0.0.1 is already in use by another program; "
                                      f"stop it or choose another port with {env}.") from None

    # -- process -------------------------------------------------------------------------------
    def pid(self) -> int | None:
        """The server's PID if our server process is alive, else None (a stale PID file is removed)."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if _is_our_java(pid, self.home):
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def status(self) -> dict:
        pid = self.pid()
        return {
            "running": pid is not None and _port_open(self.bolt_port),
            "bolt_uri": self.bolt_uri,
            "browser_url": self.browser_url,
            "pid": pid,
            "home": str(self.home),
            "user": "neo4j",
            "password_file": str(self.password_file),
        }

    def password(self) -> str:
        """The local server's password (generated on first start, stored readable by the owner only)."""
        try:
            return self.password_file.read_text().strip()
        except FileNotFoundError:
            raise ServerError(f"no password file at {self.password_file}: run `kgrec neo4j start` first.") from None

    def _write_conf(self) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            "# written by kgrec on every start; edit KGREC_* variables instead",
            "server.default_listen_address=127.0.0.1",
            "server.default_advertised_address=127.0.0.1",
            f"server.bolt.listen_address=127.0.0.1:{self.bolt_port}",
            f"server.http.listen_address=127.0.0.1:{self.http_port}",
            "server.https.enabled=false",
            "server.bolt.tls_level=DISABLED",
            f"server.directories.data={self.data_dir}",
            f"server.directories.logs={self.logs_dir}",
            f"server.directories.run={self.pid_file.parent}",
            f"server.directories.import={self.home / 'import'}",
            f"server.memory.heap.initial_size={self.heap}",
            f"server.memory.heap.max_size={self.heap}",
            f"server.memory.pagecache.size={self.pagecache}",
            "dbms.security.auth_enabled=true",
            "dbms.usage_report.enabled=false",
            "db.tx_log.rotation.retention_policy=100M size",
        ]
        (self.conf_dir / "neo4j.conf").write_text("\n".join(lines) + "\n")

    def _ensure_password(self, java: str) -> None:
        """Set the initial password before the very first start (Neo4j's own set-initial-password)."""
        if (self.data_dir / "dbms" / "auth.ini").exists() and self.password_file.exists():
            return
        # a generated password never starts with "-": the admin tool would read it as an option
        password = self.initial_password or "k" + secrets.token_urlsafe(18)
        if len(password) < 8:
            raise ServerError("NEO4J_PASSWORD must have at least 8 characters (Neo4j's minimum).")
        result = self.admin("dbms", "set-initial-password", "--", password, java=java)
        if result.returncode != 0:
            raise ServerError(f"could not set the initial password: {result.stdout}{result.stderr}")
        self.password_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(password + "\n")
        os.chmod(self.password_file, 0o600)

    def admin(self, *args: str, java: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run Neo4j's admin tool (``neo4j-admin …``) on this server's home and configuration."""
        return subprocess.run([java or self.java_command(), f"-Xmx{self.heap}", "-cp", str(self.lib / "*"),
                               "org.neo4j.cli.AdminTool", *args], capture_output=True, text=True, env=self._env())

    def import_full(self, files: list[str], database: str = "neo4j", report: Path | None = None) -> str:
        """``neo4j-admin database import full`` into ``database``, replacing it: ``files`` are its
        ``--nodes=…``/``--relationships=…`` arguments. The server must be stopped (it writes the store
        files). Returns the importer's output."""
        if self.pid() is not None:
            raise ServerError("the local server must be stopped for an offline import (`kgrec neo4j stop`)")
        self._write_conf()  # the importer finds the data folder through it
        args = ["database", "import", "full", "--overwrite-destination=true", "--max-off-heap-memory=25%",
                f"--report-file={report or self.logs_dir / 'import.report'}", *files, "--", database]
        result = self.admin(*args)
        if result.returncode != 0:
            tail = (result.stdout or "")[-4000:] + (result.stderr or "")[-3000:]
            raise ServerError(f"neo4j-admin database import full failed (exit {result.returncode}):\n{tail}")
        return result.stdout

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["NEO4J_HOME"] = str(self.home)
        env["NEO4J_CONF"] = str(self.conf_dir)
        return env

    def start(self, timeout: float = 120.0) -> dict:
        """Start the server (idempotent) and return only when Bolt answers."""
        if self.pid() is not None:
            self._wait_for_bolt(self.pid(), timeout)
            return self.status()
        if not self.jars_installed():
            raise ServerError(f"the Neo4j jars are missing from {self.lib}: run `kgrec neo4j install` "
                              "(it fetches them from Maven Central with mvn).")
        java = self.java_command()
        self._check_ports_free()
        for folder in (self.data_dir, self.logs_dir, self.pid_file.parent, self.home / "import"):
            folder.mkdir(parents=True, exist_ok=True)
        self._write_conf()
        self._ensure_password(java)
        console = self.logs_dir / "console.log"
        cmd = [java, *JVM_OPTIONS, "-cp", str(self.lib / "*"), ENTRY_POINT,
               f"--home-dir={self.home}", f"--config-dir={self.conf_dir}"]
        with open(console, "ab") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=self._env(), cwd=self.home, start_new_session=True)
        self.pid_file.write_text(f"{proc.pid}\n")
        try:
            self._wait_for_bolt(proc.pid, timeout, proc)
        except ServerError:
            self._terminate(proc.pid, 10)
            self.pid_file.unlink(missing_ok=True)
            raise
        return self.status()

    def _wait_for_bolt(self, pid: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise ServerError(f"Neo4j exited with code {proc.returncode} during start-up.\n{self.log_tail()}")
            if proc is None and not _pid_alive(pid):
                raise ServerError(f"Neo4j (pid {pid}) died during start-up.\n{self.log_tail()}")
            if _bolt_answers(self.bolt_port) and self._query_answers():
                return
            time.sleep(0.25)
        raise ServerError(f"Neo4j did not answer on {self.bolt_uri} within {timeout:.0f} s.\n{self.log_tail()}")

    def _query_answers(self) -> bool:
        """True once the default database runs a query (Bolt opens before the databases are up)."""
        import neo4j
        from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable, SessionExpired

        try:
            with neo4j.GraphDatabase.driver(self.bolt_uri, auth=("neo4j", self.password()),
                                            connection_timeout=2.0) as driver:
                driver.execute_query("RETURN 1")
            return True
        except AuthError as exc:
            raise ServerError(f"the local server refused the stored password in {self.password_file}: {exc}. "
                              "If the data folder was copied from elsewhere, remove it or restore the file.") from exc
        except (ServiceUnavailable, SessionExpired, Neo4jError, OSError):
            return False

    def log_tail(self, lines: int = 40) -> str:
        """The relevant end of the server's logs (errors first), for failure messages."""
        parts = []
        for name in ("neo4j.log", "console.log"):
            path = self.logs_dir / name
            if path.exists():
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path} (last {len(text)} lines) ---\n" + "\n".join(text))
        return "\n".join(parts) or f"(no logs in {self.logs_dir})"

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the server gracefully, forcing it after ``timeout`` seconds. True if one was running."""
        pid = self.pid()
        if pid is None:
            return False
        self._terminate(pid, timeout)
        self.pid_file.unlink(missing_ok=True)
        return True

    @staticmethod
    def _terminate(pid: int, timeout: float) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                return
            time.sleep(0.2)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        while _pid_alive(pid):
            time.sleep(0.1)


def _digest(path: Path) -> str:
    import hashlib
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _java_major(version_text: str) -> int | None:
    match = re.search(r'version "(\d+)(?:\.(\d+))?', version_text)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major  # "1.8.0" means Java 8


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child still answers kill(0): reap it if it is ours
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        stat = Path(f"/proc/{pid}/stat")
        return stat.exists() and ") Z " not in stat.read_text()


def _is_our_java(pid: int, home: Path) -> bool:
    if not _pid_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return sys.platform != "linux"  # no /proc: trust the PID file
    return ENTRY_POINT.encode() in cmdline and f"--home-dir={home}".encode() in cmdline


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _bolt_answers(port: int) -> bool:
    """True when the Bolt handshake succeeds (the port alone opens before the databases are up)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            # Bolt magic preamble + four proposed versions (5.x, 4.4, none, none)
            sock.sendall(bytes.fromhex("6060B017") + bytes.fromhex("00000805 00000404 00000000 00000000".replace(" ", "")))
            reply = sock.recv(4)
            return len(reply) == 4 and reply != b"\0\0\0\0"
    except OSError:
        return False


def status_json(server: LocalServer) -> str:
    return json.dumps(server.status())
