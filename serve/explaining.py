"""The explain stage: which of the pool's items are shown and with which paths. The explanations themselves
are built by kgrec.explain (candidates in memory, the chosen paths fetched literally, credited by their
counterfactual contribution, selected); this module only runs those steps for one request."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kgrec.explain.fidelity import credited, leave_one_out
from kgrec.explain.paths import Candidate, Explanation, Likes, fetch_candidates, fetch_paths, select
from kgrec.explain.shared import choose
from kgrec.graph.connection import Graph
from kgrec.metrics import stage
from kgrec.serve.profile import Profile
from kgrec.serve.snapshot import Snapshot


#: where a request's path read waits on Neo4j while its thread computes the leave-one-out credit (the socket
#: wait releases the GIL); as many as a process serves requests at once, more only queue
_READS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="kgrec-paths")


def explain_pool(graph: Graph, snap: Snapshot, user: int, profile: Profile, pool: Sequence[int], k: int,
                 paths: int, scales: dict[str, float]) -> tuple[list[int], dict[int, str], dict[int, list[Explanation]]]:
    """The first ``k`` of ``pool`` (explainable ones first), their titles and explanations. Candidates are
    found in memory and the chosen ones fetched literally in one round trip; the graph is walked only for
    what the model does not know (items or liked items added after training)."""
    model, index, catalogue = snap.model, snap.index, snap.catalogue
    likes = Likes.from_profile(profile, profile.tags, model.positive_rating)
    interactions = {i: (r, t) for i, r, t in profile}

    def candidates(items: Sequence[int]) -> dict[int, list[Candidate]]:
        return index.candidates(items, likes, interactions, profile.tagged, per_kind=max(3, paths))

    with stage("candidates"):
        found = candidates(pool[:k])
        items = list(pool[:k])
        if len(pool) > k and any(not found.get(i, True) for i in items):
            # items with no candidate give way to the next explainable ones of the pool
            extra = candidates(pool[k:])
            spare = [i for i in pool[k:] if extra.get(i, True)]
            explainable = [i for i in items if found.get(i, True)]
            items = (explainable + spare + [i for i in items if not found.get(i, True)])[:k]
            found.update(extra)
    unknown = [i for i in items if i not in found]  # not in the model: found by the walk below
    with stage("contributions"):
        contributions = _contributions(model, profile, items, scales)
    with stage("paths"):
        specs = choose(index, items, likes, interactions, profile.tagged, paths, contributions, found)
        reading = _READS.submit(fetch_paths, graph, user, items, specs, index.catalogue)
    with stage("contributions"):
        # the exact drops of the liked items the chosen paths cite, computed while Neo4j reads the paths
        cited = sorted({spec["liked"] for spec in specs if spec.get("liked") is not None})
        drops = leave_one_out(model, profile, list(contributions), cited) if cited and contributions else {}
    with stage("paths"):
        fetched, titles = reading.result()
        new_liked = [i for i, p in zip(likes.liked, index.positions(likes.liked)) if p < 0]
        if unknown:
            walked, _ = fetch_candidates(graph, user, unknown, likes, catalogue, per_kind=max(3, paths),
                                         min_tag_users=index.min_tag_users)
            _merge(fetched, walked)
        if new_liked and len(unknown) < len(items):
            walked, _ = fetch_candidates(graph, user, [i for i in items if i not in unknown], Likes(new_liked, []),
                                         catalogue, per_kind=max(3, paths), min_tag_users=index.min_tag_users)
            _merge(fetched, walked)
    with stage("contributions"):
        # what each shown path's liked item is credited with: its exact leave-one-out score drop
        contributions = credited(model, profile, contributions, fetched, drops)
    explained = select(fetched, [i for i in items if i in titles], paths, contributions, catalogue, index.lifts)
    # what the graph could not explain after all (changed since training) goes last
    items = [i for i in items if explained.get(i)] + [i for i in items if not explained.get(i)]
    return items, titles, explained


def _contributions(model: Any, profile: Profile, items: Sequence[int],
                   scales: dict[str, float]) -> dict[int, dict[int, float]]:
    """Per-liked-item contributions to each item's score; none for an item the model has not seen (new
    since training)."""
    known = [i for i in items if _knows(model, i)]
    return model.contributions_many(profile, known, scales) if known else {}


def _merge(into: dict[int, list[Candidate]], more: Mapping[int, Sequence[Candidate]]) -> None:
    for item, cs in more.items():
        into.setdefault(item, []).extend(cs)


def _knows(model: Any, item: int) -> bool:
    from kgrec.ranking.recommender import UnknownItem

    try:
        model.index_of(item)
        return True
    except UnknownItem:
        return False


