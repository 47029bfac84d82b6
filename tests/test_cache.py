"""The recommendation cache keeps a document for one stamp, for at most its time to live, and the most
recently used entries (serve/cache.py)."""
from __future__ import annotations

import time

from kgrec.serve.cache import ResponseCache


def test_a_document_is_served_only_for_its_stamp() -> None:
    cache = ResponseCache(entries=10, ttl=60)
    cache.put((1, "recommend"), ("v1", 0, 0), {"doc": 1})
    assert cache.get((1, "recommend"), ("v1", 0, 0)) == {"doc": 1}
    assert cache.get((1, "recommend"), ("v1", 1, 0)) is None  # the user changed
    assert cache.get((1, "recommend"), ("v2", 0, 0)) is None  # another model version
    assert cache.stats() == {"hits": 1, "misses": 2, "entries": 1}


def test_entries_expire_and_the_least_recently_used_go_first() -> None:
    cache = ResponseCache(entries=2, ttl=0.1)  # each entry lives 0.05 to 0.1 s
    cache.put(("a",), 0, "A")
    cache.put(("b",), 0, "B")
    assert cache.get(("a",), 0) == "A"  # a is now the most recently used
    cache.put(("c",), 0, "C")
    assert cache.get(("b",), 0) is None and cache.get(("a",), 0) == "A"
    time.sleep(0.11)
    assert cache.get(("a",), 0) is None


def test_erasure_drops_a_users_entries_and_zero_turns_it_off() -> None:
    cache = ResponseCache(entries=10, ttl=60)
    cache.put((7, "recommend", 10), 0, "x")
    cache.put((8, "recommend", 10), 0, "y")
    cache.drop_user(7)
    assert cache.stats()["entries"] == 1
    off = ResponseCache(entries=10, ttl=0)
    off.put((1,), 0, "x")
    assert not off.enabled and off.stats()["entries"] == 0
