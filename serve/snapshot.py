"""The model version a request reads: model, explanation index (co-liked pairs, learned lifts) and catalogue
schema, loaded together and swapped whole.

A request takes one :class:`Snapshot` at its start and reads only it, so a refresh that publishes a version
mid-request never mixes one version's scores with another's explanations. Which version is active is read
again at most every VERSION_CHECK_SECONDS; loading a new one happens beside the serving one.
"""
from __future__ import annotations

import atexit
import dataclasses
import gc
import threading
import time
from dataclasses import dataclass
from typing import Any

from kgrec.catalogue.schema import Catalogue
from kgrec.catalogue.store import active as active_catalogue
from kgrec.config import Settings
from kgrec.explain.fidelity import prepare as prepare_credit
from kgrec.explain.shared import SharedIndex
from kgrec.graph.connection import Graph
from kgrec.serve.errors import NoModel

#: seconds between two checks of which model version is active
VERSION_CHECK_SECONDS = 2.0
# a loaded model is frozen out of garbage collection (Snapshots.current); at exit, unfreeze so that
# native extensions see their objects go rather than report them leaked
atexit.register(gc.unfreeze)


@dataclass(frozen=True)
class Snapshot:
    """One active version, immutable: a change (a new version, co-liked pairs without an erased user) is a new
    Snapshot."""

    version: str
    model: Any             # kgrec.ranking.recommender.Recommender
    index: SharedIndex     # shared nodes of the model's items, found in memory
    catalogue: Catalogue   # the schema the version serves with
    #: the graph revision the index's graph-derived parts (co-liked pairs, who applied each tag) were read at
    graph_revision: int | None = None

    def with_index(self, index: SharedIndex, graph_revision: int | None) -> "Snapshot":
        self.model.shared_index = index
        return dataclasses.replace(self, index=index, graph_revision=graph_revision)


class Snapshots:
    """The process's current Snapshot. Thread-safe."""

    def __init__(self, graph: Graph, settings: Settings):
        self.graph = graph
        self.settings = settings
        self._lock = threading.Lock()
        self._current: Snapshot | None = None
        self._checked_at = 0.0

    @property
    def version(self) -> str | None:
        snap = self._current
        return snap.version if snap is not None else None

    def loaded(self) -> Snapshot | None:
        """The snapshot in memory, without checking the graph (None before the first request)."""
        return self._current

    def current(self) -> Snapshot:
        """The active version's snapshot, reloaded when another version becomes active."""
        now = time.monotonic()
        snap = self._current
        if snap is not None and now - self._checked_at < VERSION_CHECK_SECONDS:
            return snap
        rows = self.graph.read("serve/active_version")
        with self._lock:
            self._checked_at = now
            if not rows:
                raise NoModel("no model version is active yet: run `kgrec train`")
            version = rows[0]["id"]
            if self._current is None or self._current.version != version:
                self._current = self._load(version, rows[0].get("key"), rows[0].get("path"))
                # the model's many small objects (co-liked pairs, attribute maps) live as long as the model:
                # keep full garbage collections from walking them on every request (p99 41 -> 27 ms); what the
                # previous version held is unfrozen first, so it can go once its last request ends
                gc.unfreeze()
                gc.collect()
                gc.freeze()
            return self._current

    def at_revision(self, snap: Snapshot, graph_revision: int) -> Snapshot:
        """``snap``, its co-liked pairs and taggers read again if the graph's revision moved since they were
        read (an erasure through any process, an ingest): no explanation rests on an erased user's likes or
        tags, whichever process served the erasure. Each revision is read once per process."""
        if snap.graph_revision == graph_revision:
            return snap
        with self._lock:
            current = self._current
            if current is None or current.version != snap.version:
                return snap  # another version became active meanwhile: the next request takes it
            if current.graph_revision != graph_revision:
                self._current = current.with_index(current.index.with_co_liked(self.graph), graph_revision)
            return self._current

    def _load(self, version: str, key: str | None, legacy_path: str | None) -> Snapshot:
        from kgrec.ranking.modelstore import locate_version
        from kgrec.ranking.recommender import Recommender

        # the version's key in the model store (an old graph's absolute path when the store lacks it)
        path = locate_version(self.settings, version, key, legacy_path)
        revision = self.graph.read("serve/graph_revision")[0]["revision"]  # before the index's reads
        catalogue = active_catalogue(self.graph)
        model = Recommender.load(path)
        prepare_credit(model)
        index = SharedIndex.load(path, self.graph, catalogue, self.settings.explain_min_tag_users)
        # what the model serves with travels with it too (benches and tools that hold the model alone)
        model.catalogue, model.shared_index = catalogue, index
        return Snapshot(version, model, index, catalogue, revision)
