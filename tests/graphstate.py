"""Graph content that several tests read, built once and rebuilt only when a test changed it.

The session has one Neo4j database, and tests that wipe it or write to it run in any order
(pytest-randomly). A test that needs some content asks for it with :meth:`GraphStates.ensure`: what was
built is reused while the graph still holds it (same fingerprint: node and relationship counts, the sum
of the ratings, the active model version), and built again after any other test wiped or changed it."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from kgrec.graph.connection import Graph

T = TypeVar("T")

FINGERPRINT = """
CALL () { MATCH (n) RETURN count(n) AS nodes }
CALL () { MATCH ()-[r]->() RETURN count(r) AS relationships }
CALL () { MATCH ()-[r:RATED]->() RETURN sum(r.rating) AS ratings, sum(r.ts) AS times }
CALL () { OPTIONAL MATCH (v:ModelVersion {active: true}) RETURN collect(v.id) AS active }
RETURN nodes, relationships, ratings, times, active
"""


class GraphStates:
    """Which named content the session graph holds now, and the value its build returned."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self._key: str | None = None
        self._fingerprint: Any = None
        self._values: dict[str, Any] = {}

    def fingerprint(self) -> tuple:
        row = self.graph.run_text(FINGERPRINT)[0]
        return tuple(row[k] for k in ("nodes", "relationships", "ratings", "times", "active"))

    def holds(self, key: str) -> bool:
        return self._key == key and self._fingerprint == self.fingerprint()

    def mark(self, key: str, value: Any = None) -> None:
        """The graph holds ``key``'s content now (built by the caller)."""
        self._values[key] = value
        self._key, self._fingerprint = key, self.fingerprint()

    def ensure(self, key: str, build: Callable[[], T]) -> T:
        """``key``'s content in the graph: ``build()`` (which starts by wiping) unless it is there already."""
        if not self.holds(key):
            self.mark(key, build())
        return self._values[key]
