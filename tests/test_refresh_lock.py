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


#: guards against a hang only: the states below are reached within a second or two
DEADLINE_S = 30.0


def wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition`` until it holds; fail only if it never does (a hang), whatever the machine's speed."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def lock_row(graph: Graph) -> dict:
    rows = graph.read("refresh/peek_lock")
    assert len(rows) == 1, rows
    return rows[0]


def test_expired_lock_is_taken_over_and_heartbeat_renews(empty_graph: Graph) -> None:
    apply_schema(empty_graph)
    elsewhere = RefreshLock(empty_graph, "remote", ttl=1.0)
    elsewhere.host = "another-host"  # its pid cannot be checked from here: only expiry frees it
    elsewhere.acquire()
    elsewhere._stop.set()  # no more heartbeats from it
    expires = lock_row(empty_graph)["expires"]
    with pytest.raises(LockHeld):
        RefreshLock(empty_graph, "too-early").acquire()

    taker = RefreshLock(empty_graph, "after-expiry", ttl=1.0)

    def taken() -> bool:
        try:
            taker.acquire()
            return True
        except LockHeld:
            return False

    wait_for(taken, "the expired lock taken over")
    try:
        assert time.time() * 1000 >= expires  # only once the stopped holder's lock had expired
        first_expiry = lock_row(empty_graph)["expires"]
        # the heartbeat keeps it past the expiry it was taken with, by renewing it
        wait_for(lambda: time.time() * 1000 > first_expiry + 200 and lock_row(empty_graph)["expires"] > first_expiry,
                 "the lock still held after its first expiry")
        assert taker.holds()
        with pytest.raises(LockHeld):
            RefreshLock(empty_graph, "contender").acquire()
    finally:
        taker.release()
    assert empty_graph.read("refresh/peek_lock") == []
