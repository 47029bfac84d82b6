"""Recommendations with explanations for one user: the serving core behind `kgrec recommend` and the API.

Each request reads the user's current profile from Neo4j (so an interaction posted a moment ago counts,
without retraining), scores the catalogue with the active model version, and fetches the explanation
paths of the chosen items in one round trip (plus a graph walk only for items or liked items added after
training). The active version is re-read now and then, so a version published by the refresh job is picked
up without a restart. A document is answered again from the cache while nothing it depends on changed.
"""
from __future__ import annotations

import atexit
import gc
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kgrec.catalogue import signals
from kgrec.catalogue.schema import Catalogue
from kgrec.catalogue.store import active as active_catalogue
from kgrec.config import Settings
from kgrec.explain.cache import ResponseCache
from kgrec.explain.fidelity import credited
from kgrec.explain.paths import Candidate, Explanation, Likes, display_title, fetch_candidates, select
from kgrec.explain.shared import SharedIndex, fetch_chosen
from kgrec.graph import cypher
from kgrec.graph.connection import Graph
from kgrec.ranking.hybrid import SOCIAL
from kgrec.metrics import timed

#: the largest k a caller may ask for (documented in the README and the OpenAPI document)
MAX_K = 100
MAX_PATHS = 10
#: seconds between two checks of which model version is active
VERSION_CHECK_SECONDS = 2.0
# a loaded model is frozen out of garbage collection (see RecommendationService.model); at exit, unfreeze so
# that native extensions see their objects go rather than report them leaked
atexit.register(gc.unfreeze)
#: a "cold" item is new in the data (Recommender.new: first interaction in the last NEW_ITEM_DAYS, or none)
#: and has fewer training interactions than this: the collaborative terms cannot rank it yet, so a cold item
#: whose attributes match the user's at least COLD_MIN_Z standard deviations above the catalogue's mean may
#: take one of the last KGREC_COLD_SLOTS slots (marked "cold_start")
COLD_INTERACTIONS = 5
COLD_MIN_Z = 3.0


class NotFound(LookupError):
    """An unknown user or item (HTTP 404)."""


class BadFilter(ValueError):
    """A filter the catalogue cannot apply (HTTP 400)."""


class NoModel(RuntimeError):
    """No model version is active yet: run `kgrec train` (HTTP 503)."""


class Profile(list):
    """A user's (item, value, ts) interactions, as the model scores them (the value under the catalogue's
    signal model: a rating, a play count's worth, a negative for a skip), plus their own (tag, item, ts)."""

    def __init__(self, ratings: list[tuple[int, float, int]], tagged: list[tuple[str, int, int]],
                 network: dict[int, int] | None = None):
        super().__init__(ratings)
        self.tagged = tagged
        self.tags = sorted({tag for tag, _, _ in tagged})
        #: item id -> how many people the user follows or befriends liked it (counts only: nobody is named)
        self.network = network or {}

    def negatives(self) -> list[int]:
        return [i for i, v, _ in self if v < 0]


@dataclass
class Interaction:
    """One interaction posted through the API: a rating, or an event with an optional weight/count."""

    item: int
    ts: int
    rating: float | None = None
    event: str | None = None
    weight: float | None = None


class RecommendationService:
    """Thread-safe: one instance serves every request of a process."""

    def __init__(self, graph: Graph, settings: Settings):
        self.graph = graph
        self.settings = settings
        self._lock = threading.Lock()
        self._model: Any = None
        self._shared: Any = None  # SharedIndex of the active model: shared nodes found in memory
        self._model_version: str | None = None
        #: ((model version, graph revision), items added since that model was trained): see new_items
        self._new_items: tuple[tuple[str, int], list[tuple[int, list[tuple[str, str]]]], float] | None = None
        self._checked_at = 0.0
        self.cache = ResponseCache(settings.cache_entries, settings.cache_seconds)

    # -- the model ----------------------------------------------------------------------------
    def model(self) -> Any:
        """The active version's Recommender, reloaded when another version becomes active."""
        now = time.monotonic()
        if self._model is not None and now - self._checked_at < VERSION_CHECK_SECONDS:
            return self._model
        rows = self.graph.read("serve/active_version")
        with self._lock:
            self._checked_at = now
            if not rows:
                raise NoModel("no model version is active yet: run `kgrec train`")
            version = rows[0]["id"]
            if version != self._model_version:
                from kgrec.ranking.modelstore import locate_version
                from kgrec.ranking.recommender import Recommender

                # the version's key in the model store (an old graph's absolute path when the store lacks it)
                path = locate_version(self.settings, version, rows[0].get("key"), rows[0].get("path"))
                catalogue = active_catalogue(self.graph)
                model = Recommender.load(path)
                index = SharedIndex.load(path, self.graph, catalogue, self.settings.explain_min_tag_users)
                model.catalogue = catalogue  # the schema it serves with travels with it
                # both at once: no request sees the new model with the old index; a request explains with the
                # index of the model it scored with (model.shared_index), whatever is swapped in meanwhile
                model.shared_index = index
                self._model, self._shared, self._model_version = model, index, version
                # the model's many small objects (co-liked pairs, attribute maps) live as long as the model:
                # keep full garbage collections from walking them on every request (p99 41 -> 27 ms); the
                # previous version's objects are unfrozen first, so they can go
                gc.unfreeze()
                gc.collect()
                gc.freeze()
            return self._model

    @property
    def model_version(self) -> str | None:
        return self._model_version

    # -- reads --------------------------------------------------------------------------------
    def catalogue(self) -> Catalogue:
        """The catalogue schema of the active model (the graph's own before any model exists)."""
        model = self._model
        return model.catalogue if model is not None else active_catalogue(self.graph)

    @timed("profile")
    def profile(self, user: int, catalogue: Catalogue | None = None) -> "Profile":
        s = (catalogue or self.model().catalogue).signals
        rows = self.graph.read_plain("serve/profile", user=user, interaction=s.relationship)
        if not rows:
            raise NotFound(f"user {user} not found")
        ratings = []
        for i, r, e, w, ts in rows[0]["interactions"]:
            value = signals.value(s, r, e, w)
            if value is not None:  # an event kind the schema no longer has says nothing
                ratings.append((int(i), float(value), int(ts or 0)))
        people: dict[int, set[int]] = {}
        for person, i, r, e, w in rows[0]["network"]:
            if signals.is_positive(s, signals.value(s, r, e, w)):
                people.setdefault(int(i), set()).add(person)
        return Profile(ratings, [(str(tag), int(i), int(t or 0)) for tag, i, t in rows[0]["tagged"]],
                       {i: len(p) for i, p in people.items()})

    def recommend(self, user: int, k: int = 10, paths: int = 3, explain: bool = True,
                  exclude_seen: bool = True, diversity: float = 0.0, category: str | None = None) -> dict[str, Any]:
        """The `kgrec recommend --json` / `GET /users/{id}/recommendations` document (shared with the
        cache: callers must not change it)."""
        return self._cached((user, "recommend", k, paths, explain, exclude_seen, diversity, category), user,
                            lambda: self._recommend(user, k, paths, explain, exclude_seen, diversity, category))

    def _recommend(self, user: int, k: int, paths: int, explain: bool, exclude_seen: bool, diversity: float,
                   category: str | None) -> dict[str, Any]:
        model = self.model()
        profile = self.profile(user, model.catalogue)
        scales: dict[str, float] = {}
        parts: dict[str, np.ndarray] = {}
        scores = np.asarray(model.score_profile(profile, scales, parts), dtype=np.float64)
        ids = np.asarray(model.item_ids)
        allowed = np.ones(len(ids), dtype=bool)
        if exclude_seen and profile:
            allowed &= ~np.isin(ids, [p[0] for p in profile])
        allowed &= ~np.isin(ids, profile.negatives())  # "not for me" is never recommended again
        if category is not None:
            allowed &= np.isin(ids, self.category_items(model.catalogue, category))
        explaining = explain and paths > 0
        # explanation-aware: a pool of 2k, so that items the graph cannot explain give way to the next ones
        pool = self._rank(model, scores, allowed, 2 * k if explaining else k, diversity)
        cold = cold_items(model, profile, allowed, pool[:k], min(self.settings.cold_slots, k - 1),
                          parts.get("kgattr"))
        pool = pool[:k - len(cold)] + cold + [i for i in pool[k - len(cold):] if i not in cold]
        pool_ids = [int(ids[i]) for i in pool]
        pool_scores = {int(ids[i]): float(scores[i]) for i in pool}
        self._add_new_items(model, profile, pool_ids, pool_scores, exclude_seen, category, 2 * k if explaining else k,
                            protected=len(pool) - len(cold) if cold else None)
        doc = self._document(user, model, profile, pool_ids, pool_scores, k, paths if explaining else 0, scales)
        cold_ids = {int(ids[i]) for i in cold}
        for entry in doc["items"]:
            if entry["id"] in cold_ids:
                entry["cold_start"] = True
        return doc

    def explain(self, user: int, item: int, paths: int = 3) -> dict[str, Any]:
        """The explanations of one item for one user (whatever its rank)."""
        return self._cached((user, "explain", item, paths), user, lambda: self._explain_one(user, item, paths))

    def _explain_one(self, user: int, item: int, paths: int) -> dict[str, Any]:
        model = self.model()
        profile = self.profile(user, model.catalogue)
        ids = np.asarray(model.item_ids)
        hit = np.flatnonzero(ids == item)
        scales: dict[str, float] = {}
        score = float(np.asarray(model.score_profile(profile, scales))[hit[0]]) if len(hit) else None
        doc = self._document(user, model, profile, [item], {item: score}, 1, paths, scales)
        if not doc["items"]:
            raise NotFound(f"item {item} not found")
        return {"user": user, "model_version": doc["model_version"], **doc["items"][0]}

    def _cached(self, key: tuple, user: int, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``compute()``, or the document computed before for ``key`` while the model version, the user's
        revision and the graph's revision are unchanged (explain/cache.py)."""
        if not self.cache.enabled:
            return compute()
        rows = self.graph.read_plain("serve/revision", user=user)
        if not rows:
            raise NotFound(f"user {user} not found")
        stamp = (self.model().version, rows[0]["user_revision"], rows[0]["graph_revision"])
        doc = self.cache.get(key, stamp)
        if doc is None:
            doc = compute()
            if doc.get("model_version") == stamp[0]:  # not when another version became active meanwhile
                self.cache.put(key, stamp, doc)
        return doc

    @timed("rank")
    def new_items(self, model: Any) -> list[tuple[int, list[tuple[str, str]]]]:
        """Items added since ``model`` was trained, with their (relation, attribute key) facts; read again
        only when the graph's revision changed (an ingest, a PUT /items)."""
        cached, now = self._new_items, time.monotonic()
        if cached is not None and cached[0][0] == model.version and now - cached[2] < VERSION_CHECK_SECONDS:
            return cached[1]  # checked a moment ago (a PUT in this process forgets it at once)
        revision = self.graph.read("serve/graph_revision")[0]["revision"]
        if cached is not None and cached[0] == (model.version, revision):
            self._new_items = (cached[0], cached[1], now)
            return cached[1]
        c = model.catalogue
        rows = self.graph.read_plain("serve/new_items", known=model.item_ids.tolist(),
                                     attribute_types=c.attribute_types, attribute_labels=c.attribute_labels,
                                     id_labels=c.id_labels)
        found = [(int(r["item"]), [(rel, key) for rel, key in r["facts"]]) for r in rows]
        self._new_items = ((model.version, revision), found, now)
        return found

    def forget_new_items(self) -> None:
        """An item was written through this process: look for items the model has not seen again now."""
        self._new_items = None

    def _add_new_items(self, model: Any, profile: Profile, pool: list[int], scores: dict[int, float],
                       exclude_seen: bool, category: str | None, size: int, protected: int | None) -> None:
        """Put items the model has not seen into ``pool`` (ids, best first) where their attribute-based
        score (Recommender.score_new_items) ranks them; a shop's new product reaches a fan of its brand."""
        new = self.new_items(model)
        if not new or not profile:
            return
        seen = {p[0] for p in profile} if exclude_seen else set(profile.negatives())
        allowed = set(self.category_items(model.catalogue, category)) if category is not None else None
        head = pool[:protected] if protected is not None else pool
        tail = pool[len(head):]
        wanted = [(item, facts) for item, facts in new
                  if item not in seen and (allowed is None or item in allowed) and facts]
        for (item, _), score in zip(wanted, model.score_new_items(profile, [facts for _, facts in wanted])):
            scores[item] = score
            head.append(item)
        head.sort(key=lambda i: -scores[i])
        pool[:] = (head[:size - len(tail)] + tail) if tail else head[:size]

    def _rank(self, model: Any, scores: np.ndarray, allowed: np.ndarray, k: int, diversity: float) -> list[int]:
        candidates = np.flatnonzero(allowed)
        if len(candidates) == 0:
            return []
        pool = candidates[np.argsort(-scores[candidates], kind="stable")[: max(k * 5, 50) if diversity else k]]
        if not diversity:
            return [int(i) for i in pool[:k]]
        # maximal marginal relevance over the item embeddings: trade score for dissimilarity to what is chosen
        vectors = np.asarray(model.item_vectors(pool), dtype=np.float64)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
        s = scores[pool]
        s = (s - s.min()) / (s.max() - s.min() + 1e-12)
        chosen: list[int] = []
        max_sim = np.zeros(len(pool))
        for _ in range(min(k, len(pool))):
            value = (1 - diversity) * s - diversity * max_sim
            value[chosen] = -np.inf
            best = int(np.argmax(value))
            chosen.append(best)
            max_sim = np.maximum(max_sim, vectors @ vectors[best])
        return [int(pool[i]) for i in chosen]

    @timed("explain")
    def _document(self, user: int, model: Any, profile: Profile, pool: Sequence[int],
                  scores: Mapping[int, float | None], k: int, paths: int, scales: dict[str, float]) -> dict[str, Any]:
        """The first ``k`` of ``pool`` (explainable ones first when explaining), with titles and paths."""
        if not paths:
            items = list(pool[:k])
            titles = {r["item"]: r["title"] for r in self.graph.read("serve/titles", items=items)}
            explained: dict[int, list[Explanation]] = {}
        else:
            items, titles, explained = self._explain(user, model, profile, pool, k, paths, scales)
        out = []
        for item in items:
            if item not in titles:
                continue
            score = scores.get(item)
            entry: dict[str, Any] = {"id": item, "title": display_title(titles[item] or "", model.catalogue),
                                     "score": None if score is None else round(score, 6)}
            if paths:
                entry["explanations"] = [e.to_dict() for e in explained.get(item, [])]
                people = profile.network.get(item, 0)
                if people and model.params.weights.get(SOCIAL):  # social proof, as a count: nobody is named
                    entry["social"] = {"people": people, "text": model.catalogue.social.phrase.format(
                        n=people, people="1 person" if people == 1 else f"{people} people", item=entry["title"])}
            out.append(entry)
        return {"user": user, "model_version": getattr(model, "version", self._model_version), "items": out}

    def _explain(self, user: int, model: Any, profile: Profile, pool: Sequence[int], k: int, paths: int,
                 scales: dict[str, float]) -> tuple[list[int], dict[int, str], dict[int, list[Explanation]]]:
        """Candidates found in memory, the chosen ones fetched literally in one round trip; the graph is
        walked only for what the model does not know (items or liked items added after training)."""
        likes = Likes.from_profile(profile, profile.tags, model.positive_rating)
        interactions = {i: (r, t) for i, r, t in profile}
        index: SharedIndex = model.shared_index

        def candidates(items: Sequence[int]) -> dict[int, list[Candidate]]:
            return index.candidates(items, likes, interactions, profile.tagged, per_kind=max(3, paths))

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
        contributions = _contributions(model, profile, items, scales)
        fetched, titles = fetch_chosen(self.graph, index, user, items, likes, interactions, profile.tagged, paths,
                                       contributions, found)
        new_liked = [i for i, p in zip(likes.liked, index.positions(likes.liked)) if p < 0]
        if unknown:
            walked, _ = fetch_candidates(self.graph, user, unknown, likes, model.catalogue, per_kind=max(3, paths),
                                         min_tag_users=index.min_tag_users)
            _merge(fetched, walked)
        if new_liked and len(unknown) < len(items):
            walked, _ = fetch_candidates(self.graph, user, [i for i in items if i not in unknown],
                                         Likes(new_liked, []), model.catalogue, per_kind=max(3, paths),
                                         min_tag_users=index.min_tag_users)
            _merge(fetched, walked)
        # what each shown path's liked item is credited with: its exact leave-one-out score drop
        contributions = credited(model, profile, contributions, fetched)
        explained = select(fetched, [i for i in items if i in titles], paths, contributions, model.catalogue,
                           index.lifts)
        # what the graph could not explain after all (changed since training) goes last
        items = [i for i in items if explained.get(i)] + [i for i in items if not explained.get(i)]
        return items, titles, explained

    # -- writes -------------------------------------------------------------------------------
    def add_interaction(self, user: int, interaction: Interaction) -> dict[str, Any]:
        """Write a rating at once; a new user id creates the user, except an erased one: only the operator's
        `kgrec privacy reregister --user ID` lets that id back, as a new user."""
        from kgrec.privacy.tombstones import erased_absent

        if erased_absent(self.graph, self.settings, user):
            raise NotFound(f"user {user} was erased; only an operator can re-register the id as a new user "
                           "(kgrec privacy reregister --user ID)")
        scale = self.catalogue().signals
        new = signals.check(scale, interaction.rating, interaction.event, interaction.weight)
        old = self.graph.read("serve/interaction", user=user, item=interaction.item, interaction=scale.relationship)
        previous = signals.Signal(**old[0]["signal"]) if old and old[0]["signal"] else None
        merged = signals.combine(scale, previous, signals.Signal(new.rating, new.event, new.weight, interaction.ts))
        rows = self.graph.write(cypher.render("serve/add_interaction", interaction=scale.relationship), user=user,
                                item=interaction.item, **merged.as_row())
        if not rows:
            raise NotFound(f"item {interaction.item} not found")
        return rows[0]

    def item(self, item: int) -> dict[str, Any]:
        """An item with its properties and its attributes grouped by the catalogue's kinds (GET /items/{id})."""
        catalogue = self.catalogue()
        rows = self.graph.read("serve/item", item=item, attribute_types=catalogue.attribute_types,
                               interaction=catalogue.signals.relationship)
        if not rows:
            raise NotFound(f"item {item} not found")
        row = rows[0]
        attributes: dict[str, list[dict[str, Any]]] = {}
        for rel, name, key, order in row["links"]:
            spec = catalogue.by_relationship[rel]
            entry = {"name": name, "key": key} if order is None else {"name": name, "key": key, "order": order}
            attributes.setdefault(spec.name, []).append(entry)
        for values in attributes.values():
            values.sort(key=lambda v: (v.get("order") or 0, str(v["name"])))
        return {"id": row["id"], "title": row["title"], "labels": row["labels"],
                "properties": dict(sorted(row["properties"])), "attributes": attributes,
                "interactions": row["interactions"]}

    def popular(self, k: int, category: str | None = None) -> list[dict[str, Any]]:
        """Most-liked items by the catalogue's signal model, optionally in one category."""
        catalogue = self.catalogue()
        s = catalogue.signals
        items = self.category_items(catalogue, category) if category is not None else None
        return self.graph.read("serve/popular", k=k, items=items, interaction=s.relationship,
                               positive=s.positive, min_weight=signals.positive_counts(s))

    def category_items(self, catalogue: Catalogue, value: str) -> list[int]:
        """The items in one category (the catalogue's ``item.category`` attribute, e.g. a genre)."""
        if catalogue.category is None:
            raise BadFilter(f"the {catalogue.name!r} catalogue declares no category")
        spec = catalogue.by_name[catalogue.category]
        query = cypher.render("serve/category_items", label=spec.label, key=spec.key, rel=spec.relationship)
        return [r["item"] for r in self.graph.read(query, value=value)]

    def erase_user(self, user: int) -> dict[str, Any]:
        """Erase the user everywhere, derived data and model files included (kgrec.privacy.erase); returns
        what was removed."""
        from kgrec.privacy.erase import erase_user

        result = erase_user(self.graph, self.settings, user)
        self.cache.drop_user(user)
        if result is None:
            raise NotFound(f"user {user} not found")
        with self._lock:  # this process's co-liked supports without the user's likes
            if self._shared is not None:
                self._shared = self._model.shared_index = self._shared.with_co_liked(self.graph)
        return result.to_json()


def cold_items(model: Any, profile: Sequence[tuple[int, float, int]], allowed: np.ndarray, taken: Sequence[int],
               slots: int, content: np.ndarray | None = None) -> list[int]:
    """Catalogue positions of up to ``slots`` cold items (new in the data, fewer than COLD_INTERACTIONS
    training interactions) among ``allowed`` and not ``taken`` whose attributes match the profile's by a
    content z-score (``content``, else computed) of at least COLD_MIN_Z, best match first; often none."""
    if slots <= 0 or not profile or getattr(model, "new", None) is None:
        return []
    cold = allowed & model.new & (np.asarray(model.components.popularity) < COLD_INTERACTIONS)
    cold[np.asarray(taken, dtype=np.int64)] = False
    if not cold.any():
        return []
    z = content if content is not None else model.content_scores(profile)
    found = np.flatnonzero(cold & (z >= COLD_MIN_Z))
    return [int(i) for i in found[np.argsort(-z[found], kind="stable")][:slots]]


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
