"""The active model and its explanation index are swapped together while requests are served
(serve/snapshot.py: a request reads one Snapshot): no request scores with one version's model and
explains with another version's index."""
from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path

from conftest import TrainedGraph
from kgrec.graph.connection import Graph
from synthetic import clone_version

#: guards against a hang only; each flip is normally picked up within a fraction of a second
PICKUP_DEADLINE_S = 60.0
FLIPS = 12


def test_no_request_mixes_the_model_of_one_version_with_the_index_of_another(
        graph: Graph, trained_graph: TrainedGraph, monkeypatch) -> None:
    from kgrec.serve import explaining, snapshot
    from kgrec.serve.pipeline import RecommendationService
    from kgrec.explain.shared import SharedIndex
    from kgrec.ranking.training import activate, publish

    settings = replace(trained_graph.settings, cache_seconds=0)  # every request computed
    first = trained_graph.version
    second = clone_version(settings.models_dir, first, f"swap-{uuid.uuid4().hex[:12]}")
    publish(graph, settings, second, log=lambda m: None)
    activate(graph, first)

    # which version's directory each index was loaded from, and which index each request explained with
    loaded_from: dict[int, str] = {}
    keep: list[SharedIndex] = []  # alive, so that no id() is reused
    original_load = SharedIndex.load.__func__

    def load(cls, model_dir, *args, **kwargs):  # type: ignore[no-untyped-def]
        index = original_load(cls, model_dir, *args, **kwargs)
        loaded_from[id(index)] = Path(model_dir).name
        keep.append(index)
        return index

    used: dict[int, SharedIndex] = {}
    real_choose = explaining.choose

    def choose(index, *args, **kwargs):  # type: ignore[no-untyped-def]
        used[threading.get_ident()] = index
        return real_choose(index, *args, **kwargs)

    monkeypatch.setattr(SharedIndex, "load", classmethod(load))
    monkeypatch.setattr(explaining, "choose", choose)
    monkeypatch.setattr(snapshot, "VERSION_CHECK_SECONDS", 0.0)  # every request re-reads the active one

    service = RecommendationService(graph, settings)
    served: Counter[str] = Counter()
    mixed: list[tuple[str, str]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def serve(user: int) -> None:
        try:
            while not stop.is_set():
                doc = service.recommend(user, k=3)
                index_version = loaded_from[id(used[threading.get_ident()])]
                served[doc["model_version"]] += 1
                if index_version != doc["model_version"]:
                    mixed.append((doc["model_version"], index_version))
        except BaseException as exc:  # reported below; a dead thread must not pass silently
            errors.append(exc)

    threads = [threading.Thread(target=serve, args=(user,)) for user in (1, 2, 3, 4)]
    for t in threads:
        t.start()
    try:
        for flip in range(FLIPS):
            target = second if flip % 2 == 0 else first
            seen = served[target]
            activate(graph, target)
            deadline = time.monotonic() + PICKUP_DEADLINE_S
            while served[target] <= seen + 4 and not errors:  # several requests served by the new version
                assert time.monotonic() < deadline, f"version {target} was not picked up"
                time.sleep(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=PICKUP_DEADLINE_S)
    assert not errors, errors
    assert served[first] and served[second] and len(set(loaded_from.values())) == 2
    assert mixed == [], f"{len(mixed)} of {sum(served.values())} requests mixed two versions: {mixed[:5]}"
