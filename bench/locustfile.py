"""Locust users for bench/api_load.py (which runs them headless, one scenario at a time).

Each user sends about ``KGREC_BENCH_RATE_PER_USER`` requests per second (locust's constant throughput), so
N users make an open loop of about N x that rate while answers come back well within a second: a slow
answer delays only its own user's next request.

- ``Recommend``: a random known user's top 10 with 3 explanation paths each.
- ``CypherCF``: the Neo4j recommendations example's collaborative-filtering query, as the baseline.
- ``Session``: a new user id posts a few interactions, then reads recommendations; one request in five posts
  an interaction with the item ranked first, and the next read must no longer list it (read-after-write:
  the item is now seen), else the read counts as a failure.
"""
from __future__ import annotations

import itertools
import json
import os
import random

from locust import FastHttpUser, constant_throughput, task

RATE = float(os.environ.get("KGREC_BENCH_RATE_PER_USER", "1"))
USERS = json.loads(os.environ.get("KGREC_BENCH_USERS", "[1]"))
ITEMS = json.loads(os.environ.get("KGREC_BENCH_ITEMS", "[1]"))
SESSION_FIRST_ID = int(os.environ.get("KGREC_BENCH_SESSION_FIRST_ID", "900000000"))
HEADERS = {"X-API-Key": os.environ["KGREC_API_KEY"]} if os.environ.get("KGREC_API_KEY") else {}
RATING = json.loads(os.environ.get("KGREC_BENCH_INTERACTION", '{"rating": 5.0}'))
_session_ids = itertools.count(SESSION_FIRST_ID)


class _Known(FastHttpUser):
    """A random known user's list at ``path`` (a template over the user id)."""

    abstract = True
    path = ""
    label = ""
    wait_time = constant_throughput(RATE)

    @task
    def read(self) -> None:
        self.client.get(self.path.format(user=random.choice(USERS)), name=self.label, headers=HEADERS)


class Recommend(_Known):
    path, label = "/users/{user}/recommendations?k=10&paths=3", "recommendations"


class CypherCF(_Known):
    path, label = "/users/{user}/recommendations/cypher-cf?k=10", "cypher-cf"


class Session(FastHttpUser):
    wait_time = constant_throughput(RATE)

    def on_start(self) -> None:
        self.user = next(_session_ids)
        self.top: int | None = None
        self.posted: int | None = None  # posted since the last read: the next read must not list it
        for item in random.sample(ITEMS, min(3, len(ITEMS))):
            self._post(item)
        self.posted = None

    def _post(self, item: int) -> None:
        self.client.post(f"/users/{self.user}/interactions", json={"item": item, **RATING}, name="post interaction",
                         headers=HEADERS)

    @task
    def step(self) -> None:
        if self.top is not None and self.posted is None and random.random() < 0.2:
            self._post(self.top)
            self.posted = self.top
            return
        with self.client.get(f"/users/{self.user}/recommendations?k=10&paths=3", name="recommendations (session)",
                             headers=HEADERS, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            items = [entry["id"] for entry in response.json()["items"]]
            if self.posted is not None and self.posted in items:
                response.failure(f"item {self.posted} posted a moment ago is still recommended")
            else:
                response.success()
            self.posted = None
            self.top = items[0] if items else None
