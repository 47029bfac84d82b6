"""RecommendationService: one request, one pipeline (profile → score → re-rank → explain → render), behind
`kgrec recommend` and the API.

A request takes the process's current :class:`~kgrec.serve.snapshot.Snapshot` once and reads only it. The
profile and the revisions a cached answer depends on come in one read (the profile is not even sent when a
cached answer still holds); the chosen explanation paths and the titles in one more. Everything that can be
computed at model load (shared-node index, learned lifts, co-liked pairs) is, in the snapshot.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from kgrec.catalogue.schema import Catalogue
from kgrec.catalogue.store import active as active_catalogue
from kgrec.config import Settings
from kgrec.serve.cache import ResponseCache
from kgrec.graph.connection import Graph
from kgrec.metrics import stage
from kgrec.serve import reads, writes
from kgrec.serve.errors import MAX_K, MAX_PATHS, BadFilter, NoModel, NotFound
from kgrec.serve.explaining import explain_pool
from kgrec.serve.profile import Profile, Revisions, read_profile
from kgrec.serve.render import document, read_titles
from kgrec.serve.rerank import NewItems, add_new_items, cold_items, rank
from kgrec.serve.snapshot import Snapshot, Snapshots
from kgrec.serve.writes import Interaction

__all__ = ["MAX_K", "MAX_PATHS", "BadFilter", "Interaction", "NoModel", "NotFound", "Profile",
           "RecommendationService"]

Compute = Callable[[Snapshot, Profile, Revisions], dict[str, Any]]


class RecommendationService:
    """Thread-safe: one instance serves every request of a process."""

    def __init__(self, graph: Graph, settings: Settings):
        # one core per request: concurrent requests (threads, workers) and Neo4j share the cores, and BLAS
        # threads on top of them oversubscribe (measured under load: a 64-column product 20 ms -> 3.5 ms)
        threadpool_limits(1, user_api="blas")
        self.graph = graph
        self.settings = settings
        self.snapshots = Snapshots(graph, settings)
        self.new_items = NewItems()
        self.cache = ResponseCache(settings.cache_entries, settings.cache_seconds)

    # -- the model ----------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        return self.snapshots.current()

    def model(self) -> Any:
        """The active version's Recommender (it carries its catalogue and explanation index)."""
        return self.snapshots.current().model

    @property
    def model_version(self) -> str | None:
        return self.snapshots.version

    def catalogue(self) -> Catalogue:
        """The catalogue schema of the active model (the graph's own before any model exists)."""
        snap = self.snapshots.loaded()
        return snap.catalogue if snap is not None else active_catalogue(self.graph)

    def profile(self, user: int, catalogue: Catalogue | None = None) -> Profile:
        """The user's current profile (NotFound for an unknown user)."""
        profile, _ = read_profile(self.graph, user, catalogue or self.snapshots.current().catalogue)
        assert profile is not None
        return profile

    # -- recommendations ------------------------------------------------------------------------
    def recommend(self, user: int, k: int = 10, paths: int = 3, explain: bool = True, exclude_seen: bool = True,
                  diversity: float = 0.0, category: str | None = None) -> dict[str, Any]:
        """The `kgrec recommend --json` / `GET /users/{id}/recommendations` document (shared with the
        cache: callers must not change it)."""
        return self._serve((user, "recommend", k, paths, explain, exclude_seen, diversity, category), user,
                           lambda snap, profile, rev: self._recommend(snap, user, profile, rev, k, paths, explain,
                                                                      exclude_seen, diversity, category))

    def explain(self, user: int, item: int, paths: int = 3) -> dict[str, Any]:
        """The explanations of one item for one user (whatever its rank)."""
        return self._serve((user, "explain", item, paths), user,
                           lambda snap, profile, rev: self._explain_one(snap, user, profile, item, paths))

    def _serve(self, key: Hashable, user: int, compute: Compute) -> dict[str, Any]:
        """``compute`` on the current snapshot and the user's profile, or the document computed before for
        ``key`` while the model version, the user's revision and the graph's are unchanged (serve/cache.py).
        One read either way: the revisions come with the profile, which is not sent when they still hold."""
        snap = self.snapshots.current()
        held = self.cache.stamp(key) if self.cache.enabled else None
        known = Revisions(held[1], held[2]) if held is not None and held[0] == snap.version else None
        profile, rev = read_profile(self.graph, user, snap.catalogue, known)
        snap = self.snapshots.at_revision(snap, rev.graph)
        stamp = (snap.version, rev.user, rev.graph)
        if self.cache.enabled:
            doc = self.cache.get(key, stamp)  # counts the hit or the miss
            if doc is not None:
                return doc
        if profile is None:  # the entry expired since its stamp was read
            profile, rev = read_profile(self.graph, user, snap.catalogue)
            stamp = (snap.version, rev.user, rev.graph)
        assert profile is not None
        doc = compute(snap, profile, rev)
        self.cache.put(key, stamp, doc)
        return doc

    def _recommend(self, snap: Snapshot, user: int, profile: Profile, rev: Revisions, k: int, paths: int,
                   explain: bool, exclude_seen: bool, diversity: float, category: str | None) -> dict[str, Any]:
        model = snap.model
        scales: dict[str, float] = {}
        parts: dict[str, np.ndarray] = {}
        with stage("score"):
            scores = np.asarray(model.score_profile(profile, scales, parts), dtype=np.float64)
        ids = np.asarray(model.item_ids)
        allowed = np.ones(len(ids), dtype=bool)
        if exclude_seen and profile:
            allowed &= ~np.isin(ids, [p[0] for p in profile])
        allowed &= ~np.isin(ids, profile.negatives())  # "not for me" is never recommended again
        in_category = self.category_items(snap.catalogue, category) if category is not None else None
        if in_category is not None:
            allowed &= np.isin(ids, in_category)
        explaining = explain and paths > 0
        # explanation-aware: a pool of 2k, so that items the graph cannot explain give way to the next ones
        size = 2 * k if explaining else k
        pool = rank(model, scores, allowed, size, diversity)
        cold = cold_items(model, profile, allowed, pool[:k], min(self.settings.cold_slots, k - 1), parts.get("kgattr"))
        pool = pool[:k - len(cold)] + cold + [i for i in pool[k - len(cold):] if i not in cold]
        pool_ids = [int(ids[i]) for i in pool]
        scores_of = {int(ids[i]): float(scores[i]) for i in pool}
        if profile:
            new = self.new_items.get(self.graph, model, rev.graph)
            add_new_items(model, profile, new, pool_ids, scores_of, exclude_seen,
                          set(in_category) if in_category is not None else None, size,
                          protected=len(pool) - len(cold) if cold else None)
        if explaining:
            items, titles, explained = explain_pool(self.graph, snap, user, profile, pool_ids, k, paths, scales)
        else:
            items, explained = pool_ids[:k], None
            titles = read_titles(self.graph, items)
        return document(user, snap, profile, items, titles, scores_of, explained, {int(ids[i]) for i in cold})

    def _explain_one(self, snap: Snapshot, user: int, profile: Profile, item: int, paths: int) -> dict[str, Any]:
        model = snap.model
        hit = np.flatnonzero(np.asarray(model.item_ids) == item)
        scales: dict[str, float] = {}
        score = float(np.asarray(model.score_profile(profile, scales))[hit[0]]) if len(hit) else None
        if paths > 0:
            items, titles, explained = explain_pool(self.graph, snap, user, profile, [item], 1, paths, scales)
        else:
            items, titles, explained = [item], read_titles(self.graph, [item]), None
        doc = document(user, snap, profile, items, titles, {item: score}, explained)
        if not doc["items"]:
            raise NotFound(f"item {item} not found")
        return {"user": user, "model_version": doc["model_version"], **doc["items"][0]}

    def forget_new_items(self) -> None:
        """An item was written through this process: look for items the model has not seen again now."""
        self.new_items.forget()

    # -- writes and other reads -----------------------------------------------------------------
    def add_interaction(self, user: int, interaction: Interaction) -> dict[str, Any]:
        return writes.add_interaction(self.graph, self.settings, self.catalogue(), user, interaction)

    def erase_user(self, user: int) -> dict[str, Any]:
        result = writes.erase_user(self.graph, self.settings, user)
        self.cache.drop_user(user)
        # the erasure moved the graph's revision: every process (this one at its next request) reads the
        # co-liked pairs and taggers again, without the user's likes and tags
        return result

    def item(self, item: int) -> dict[str, Any]:
        return reads.item(self.graph, self.catalogue(), item)

    def popular(self, k: int, category: str | None = None) -> list[dict[str, Any]]:
        return reads.popular(self.graph, self.catalogue(), k, category)

    def category_items(self, catalogue: Catalogue, value: str) -> list[int]:
        return reads.category_items(self.graph, catalogue, value)
