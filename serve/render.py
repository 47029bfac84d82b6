"""The render stage: the JSON document of a recommendation list (shared with the response cache: callers must
not change it)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kgrec.explain.paths import Explanation, display_title
from kgrec.graph.connection import Graph
from kgrec.metrics import timed
from kgrec.ranking.hybrid import SOCIAL
from kgrec.serve.profile import Profile
from kgrec.serve.snapshot import Snapshot


def read_titles(graph: Graph, items: Sequence[int]) -> dict[int, str]:
    """Titles of items shown without explanations (explained ones come with their paths)."""
    return {r["item"]: r["title"] for r in graph.read("serve/titles", items=list(items))}


@timed("render")
def document(user: int, snap: Snapshot, profile: Profile, items: Sequence[int], titles: Mapping[int, str],
             scores: Mapping[int, float | None], explained: Mapping[int, Sequence[Explanation]] | None,
             cold: set[int] = frozenset()) -> dict[str, Any]:
    """``items`` in order (those without a title are gone from the graph: left out), with their scores and,
    when ``explained`` is given, their explanations and social proof."""
    catalogue = snap.catalogue
    social = bool(snap.model.params.weights.get(SOCIAL))
    out = []
    for item in items:
        if item not in titles:
            continue
        score = scores.get(item)
        entry: dict[str, Any] = {"id": item, "title": display_title(titles[item] or "", catalogue),
                                 "score": None if score is None else round(score, 6)}
        if explained is not None:
            entry["explanations"] = [e.to_dict() for e in explained.get(item, [])]
            people = profile.network.get(item, 0)
            if people and social:  # social proof, as a count: nobody is named
                entry["social"] = {"people": people, "text": catalogue.social.phrase.format(
                    n=people, people="1 person" if people == 1 else f"{people} people", item=entry["title"])}
        if item in cold:
            entry["cold_start"] = True
        out.append(entry)
    return {"user": user, "model_version": snap.version, "items": out}
