"""Recomputing a user's recommendations is wasted work while nothing they depend on has changed.

A document is served again only while its stamp still holds: the same model version, the same user
revision (bumped by each interaction posted through the API) and the same graph revision (bumped by each
ingest, refresh included); both revisions are read from Neo4j on every request, with the profile (which is
not sent while they hold), so every serving process sees a change at once. An entry also expires, for changes made outside kgrec (a hand edit in Browser), after
between half and all of ``ttl`` seconds: spread, so that entries made together are not all recomputed
together (a burst of misses that would stall the requests queued behind it). Least recently used entries go
first when the cache is full.
"""
from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class ResponseCache:
    """Thread-safe LRU of documents, each valid for one stamp and at most ``ttl`` seconds."""

    def __init__(self, entries: int, ttl: float):
        self.entries = entries
        self.ttl = ttl
        self._data: OrderedDict[Hashable, tuple[Hashable, float, Any]] = OrderedDict()  # key -> (stamp, expiry, doc)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.entries > 0 and self.ttl > 0

    def get(self, key: Hashable, stamp: Hashable) -> Any | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is not None and entry[0] == stamp and time.monotonic() < entry[1]:
                self._data.move_to_end(key)
                self.hits += 1
                return entry[2]
            self.misses += 1
            return None

    def stamp(self, key: Hashable) -> Any | None:
        """The stamp of ``key``'s entry while it has not expired (None: no entry), so the revisions it was
        made under can be checked in the same read as the profile."""
        with self._lock:
            entry = self._data.get(key)
            return entry[0] if entry is not None and time.monotonic() < entry[1] else None

    def put(self, key: Hashable, stamp: Hashable, value: Any) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._data[key] = (stamp, time.monotonic() + self.ttl * random.uniform(0.5, 1.0), value)
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)

    def drop_user(self, user: int) -> None:
        """Forget a user's entries at once (erasure): keys start with the user id."""
        with self._lock:
            for key in [k for k in self._data if isinstance(k, tuple) and k and k[0] == user]:
                del self._data[key]

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "entries": len(self._data)}
