"""The refresh lock: exclusive, renewed while held, taken over when its holder is dead or expired."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from kgrec.graph.connection import Graph
from kgrec.graph.schema import apply_schema
from kgrec.refresh.lock import LockHeld, RefreshLock


def test_second_holder_is_refused_until_release(empty_graph: Graph) -> None:
    apply_schema(empty_graph)
    first = RefreshLock(empty_graph, "run-1")
    first.acquire()
    try:
        assert first.holds()
        with pytest.raises(LockHeld, match="another refresh is running \\(run run-1"):
            RefreshLock(empty_graph, "run-2").acquire()
    finally:
        first.release()
    with RefreshLock(empty_graph, "run-3") as third:
        assert third.holds()
    assert not third.holds()


def test_lock_of_a_dead_process_is_taken_over(empty_graph: Graph) -> None:
    apply_schema(empty_graph)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    ghost = RefreshLock(empty_graph, "ghost")
    ghost.pid = int(dead.stdout)  # a process of this host that no longer exists
    ghost.acquire()
    ghost._stop.set()  # it "died": no more heartbeats, and the lock is left behind
    survivor = RefreshLock(empty_graph, "next")
    survivor.acquire()
    try:
        assert survivor.holds() and not ghost.holds()
    finally:
        survivor.release()


def test_expired_lock_is_taken_over_and_heartbeat_renews(empty_graph: Graph) -> None:
    apply_schema(empty_graph)
    elsewhere = RefreshLock(empty_graph, "remote", ttl=1.0)
    elsewhere.host = "another-host"  # its pid cannot be checked from here: only expiry frees it
    elsewhere.acquire()
    elsewhere._stop.set()
    with pytest.raises(LockHeld):
        RefreshLock(empty_graph, "too-early").acquire()
    time.sleep(1.5)
    with RefreshLock(empty_graph, "after-expiry", ttl=1.0) as lock:
        time.sleep(2.0)  # longer than the TTL: only the heartbeat keeps it
        assert lock.holds()
        with pytest.raises(LockHeld):
            RefreshLock(empty_graph, "contender").acquire()
