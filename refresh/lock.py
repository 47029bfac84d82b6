"""The refresh lock, kept in Neo4j so that two refreshes never overlap, wherever they run.

The holder extends it with a heartbeat; a lock whose holder stopped (killed, host gone) expires after
``ttl`` seconds, and on the holder's own host a lock whose process is gone is taken over at once.
"""
from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from types import TracebackType

import psutil

from kgrec.graph.connection import Graph


class LockHeld(RuntimeError):
    """Another refresh holds the lock; the message says which and until when."""


class RefreshLock:
    def __init__(self, graph: Graph, run_id: str, ttl: float = 120.0):
        self.graph = graph
        self.run_id = run_id
        self.ttl = ttl
        self.token = uuid.uuid4().hex
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def _expires(self) -> int:
        return int((time.time() + self.ttl) * 1000)

    def acquire(self) -> None:
        holder = self.graph.read("refresh/peek_lock")
        dead = [h["pid"] for h in holder if h["host"] == self.host and not psutil.pid_exists(h["pid"] or -1)]
        rows = self.graph.write("refresh/acquire_lock", token=self.token, host=self.host, pid=self.pid,
                                run=self.run_id, expires=self._expires(), now=int(time.time() * 1000),
                                dead_pids=dead)
        lock = rows[0]
        if lock["token"] != self.token:
            until = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(lock["expires"] / 1000))
            raise LockHeld(f"another refresh is running (run {lock['run']}, pid {lock['pid']} on {lock['host']}); "
                           f"its lock expires at {until} unless renewed. Not starting a second one.")
        self._beat = threading.Thread(target=self._heartbeat, name="refresh-lock", daemon=True)
        self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.ttl / 4):
            try:
                if not self.graph.write("refresh/heartbeat_lock", token=self.token, expires=self._expires()):
                    return  # taken over (we were presumed dead): holds() now says so, and we do not publish
            except Exception:  # a database blip: the next beat retries; the TTL leaves room for several
                continue

    def holds(self) -> bool:
        """True while the lock is still ours (checked again right before publishing)."""
        return any(row["token"] == self.token for row in self.graph.read("refresh/peek_lock"))

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        self.graph.write("refresh/release_lock", token=self.token)

    def __enter__(self) -> "RefreshLock":
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
