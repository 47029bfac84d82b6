"""Explanations as literal paths: fetch candidate paths from Neo4j, rank them, and render them.

A path is returned exactly as the database gave it: nodes (each identified by a label and its unique key,
so ``MATCH (n:Label {key: value})`` finds it again) and relationships indexed into that node list.
Nothing here invents a link; ranking only chooses among the paths Neo4j returned.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kgrec.graph.connection import Graph
from kgrec.ingest.names import tag_name

#: the property that identifies a node of each label (its uniqueness constraint in cypher/schema.cypher)
KEY_BY_LABEL = {"User": "id", "Item": "id", "Movie": "id", "Person": "id", "Entity": "id",
                "Genre": "name", "Country": "name", "Keyword": "name", "Tag": "name", "Studio": "name",
                "Attribute": "id"}
#: preferred label when a node has several (Movie before Item: it is the more specific)
LABEL_ORDER = ["User", "Movie", "Item", "Person", "Genre", "Country", "Keyword", "Tag", "Studio", "Attribute",
               "Entity"]
#: the kinds whose shared node is specific (person, tag, keyword, entity) rather than broad (genre, country)
SPECIFIC_KINDS = {"director", "actor", "person", "keyword", "tag", "entity", "studio", "your_tag", "attribute"}
#: how telling each kind of link is, beside its rarity: a shared director or your own tag says more than a
#: free-text tag of other users
KIND_PRIOR = {"director": 1.6, "your_tag": 1.4, "person": 1.3, "actor": 1.1, "co_liked": 1.0, "keyword": 0.9,
              "entity": 0.9, "studio": 0.9, "attribute": 0.9, "tag": 0.75, "genre": 1.0, "country": 1.0}
#: how much a repeated kind / liked item is discounted when varying the explanations of a top-k list
DIVERSITY_PENALTY = 0.7


@dataclass
class Explanation:
    """One path from the user to the item, with the reason it stands for."""

    kind: str
    text: str
    path: dict[str, Any]
    liked_item: int | None
    shared: dict[str, Any] | None
    weight: float
    contribution: float | None = None
    shared_degree: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"text": self.text, "kind": self.kind, "path": self.path, "liked_item": self.liked_item,
               "weight": round(self.weight, 4)}
        if self.shared_degree is not None:
            out["shared_degree"] = self.shared_degree
        if self.contribution is not None:
            out["contribution"] = round(float(self.contribution), 6)
        return out


@dataclass
class Candidate:
    via: str
    nodes: list[dict[str, Any]]
    rels: list[dict[str, Any]]  # start/end index into nodes
    degree: int
    rating: float | None
    ts: int | None
    liked_id: int | None
    #: set on candidates found in memory, before their path is fetched: the kind of link and what
    #: cypher/explain/fetch_paths.cypher needs to MATCH the path ({item, via, liked, label, key, value})
    kind: str | None = None
    spec: dict[str, Any] | None = None


def primary_label(labels: Sequence[str]) -> str:
    for label in LABEL_ORDER:
        if label in labels:
            return label
    return labels[0]


def node_ref(node: Mapping[str, Any]) -> dict[str, Any]:
    """A node as the API shows it: enough to MATCH it again, plus a display name."""
    label = primary_label(node["labels"])
    key = KEY_BY_LABEL.get(label, "id")
    value = node.get(key) if key != "name" else node.get("name")
    labels = [label] + sorted(set(node["labels"]) - {label})
    title = node.get("title") if label in ("Movie", "Item") else None
    name = node.get("name") or node.get("title")
    name = display_title(title or name) if label in ("Movie", "Item") and (title or name) else \
        name or (f"User {value}" if label == "User" else str(value))
    return {"labels": labels, "key": key, "value": value, "name": name}


_ARTICLES = re.compile(r"^(?P<rest>.+), (?P<article>The|A|An|Les|Le|La|L'|Il|Das|Der|Die|El|Los|Las)(?P<tail> \(.*\))?$")


def display_title(title: str) -> str:
    """MovieLens files titles as "Shawshank Redemption, The"; people read "The Shawshank Redemption"."""
    match = _ARTICLES.match(title)
    if not match:
        return title
    sep = "" if match["article"].endswith("'") else " "
    return f"{match['article']}{sep}{match['rest']}{match['tail'] or ''}"


def candidate_path(c: Candidate) -> dict[str, Any]:
    return {
        "nodes": [node_ref(n) for n in c.nodes],
        "relationships": [{"type": r["type"], "start": r["start"], "end": r["end"],
                           "properties": _public_properties(r["properties"])} for r in c.rels],
    }


def _public_properties(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if not isinstance(v, (list, dict)) or k == "users"}


#: shared nodes with more links than this are matched from the user's liked items (see paths.cypher)
BROAD_DEGREE = 30
#: how many of the user's liked items (best rated, then newest) broad nodes are matched against
LIKED_SCAN = 30


@dataclass(frozen=True)
class Likes:
    """Where a user's explanations can start: liked item ids (best-rated, newest first) and own tags."""

    liked: list[int]
    tags: list[str]

    @classmethod
    def from_profile(cls, profile: Sequence[tuple[int, float, int]], tags: Sequence[str],
                     min_rating: float = 4.0) -> "Likes":
        ranked = sorted((p for p in profile if p[1] >= min_rating), key=lambda p: (-p[1], -p[2]))
        return cls([p[0] for p in ranked], list(tags))

    @classmethod
    def read(cls, graph: Graph, user: int, min_rating: float = 4.0) -> "Likes":
        rows = graph.read("explain/user_likes", user=user, min_rating=min_rating)
        return cls(rows[0]["liked"], rows[0]["tags"]) if rows else cls([], [])


def fetch_candidates(graph: Graph, user: int, items: Sequence[int], likes: Likes,
                     per_kind: int = 3) -> tuple[dict[int, list[Candidate]], dict[int, str]]:
    """Candidate paths for every item, found by walking the graph from ``likes``, and the items' titles,
    in one round trip (UNWIND)."""
    tags = [{"name": tag_name(t), "raw": t} for t in likes.tags]
    rows = graph.read_plain("explain/paths", user=user, items=list(items), liked=likes.liked, tags=tags,
                      per_kind=per_kind, broad=BROAD_DEGREE, scan=LIKED_SCAN)
    candidates = {row["item"]: [Candidate(**c) for c in row["candidates"]] for row in rows}
    return candidates, {row["item"]: row["title"] for row in rows}


def fetch_paths(graph: Graph, user: int, items: Sequence[int],
                specs: Sequence[Mapping[str, Any]]) -> tuple[dict[int, list[Candidate]], dict[int, str]]:
    """The literal paths of candidates chosen in memory (``Candidate.spec``), and the items' titles, in
    one round trip; a spec the graph no longer holds is simply missing from the result."""
    rows = graph.read_plain("explain/fetch_paths", user=user, items=list(items), specs=list(specs))
    return ({row["item"]: [Candidate(**c) for c in row["candidates"]] for row in rows},
            {row["item"]: row["title"] for row in rows})


def kind_of(c: Candidate) -> str:
    """The kind of link a candidate stands for, from its relationship types and the shared node's label."""
    if c.kind is not None:
        return c.kind
    if c.via != "shared":
        return c.via
    types = {c.rels[1]["type"], c.rels[2]["type"]}
    if len(types) == 1:
        return _KIND_BY_TYPE.get(types.pop(), "entity")
    return "person" if primary_label(c.nodes[2]["labels"]) == "Person" else "entity"


_KIND_BY_TYPE = {"DIRECTED": "director", "ACTED_IN": "actor", "IN_GENRE": "genre", "FROM_COUNTRY": "country",
                 "HAS_KEYWORD": "keyword", "HAS_TAG": "tag", "PRODUCED_BY": "studio", "MENTIONS": "entity",
                 "HAS_ATTRIBUTE": "attribute"}


def specificity(c: Candidate) -> float:
    """Higher for rarer shared nodes: a director of 4 films says more than a genre of 4,000."""
    if c.via == "co_liked":
        # a co-liking pair supported by many users is a strong, if unspecific, signal
        return 0.6 * (1.0 - math.exp(-max(c.degree, 0) / 20.0))
    return 1.0 / math.log2(2.0 + max(c.degree, 0))


def render(c: Candidate, kind: str) -> str:
    """One sentence for a path; every name in it is a node on the path."""
    names = [node_ref(n)["name"] for n in c.nodes]
    item = names[-1]
    if c.via == "your_tag":
        tag = names[2]
        return f"You tagged {names[1]} \u201c{tag}\u201d, and {item} is tagged \u201c{tag}\u201d too."
    liked = names[1]
    stars = _stars(c.rating)
    if c.via == "co_liked":
        return f"You rated {liked} {stars}; people who liked {liked} also liked {item}."
    shared = names[2]
    rel_item = c.rels[2]["type"]
    phrase = {
        "director": f"{item} is also directed by {shared}.",
        "actor": f"{item} also stars {shared}.",
        "genre": f"{item} is also {_article(shared)} {shared} film.",
        "country": f"{item} is also from {shared}.",
        "keyword": f"{item} shares the keyword \u201c{shared}\u201d.",
        "tag": f"both are tagged \u201c{shared}\u201d.",
        "studio": f"{item} is also from {shared}.",
        "attribute": f"{item} also has {shared}.",
    }.get(kind)
    if phrase is None:  # a person in two roles, an entity, or a mix: say each side's own relationship
        if kind == "entity" and {c.rels[1]["type"], rel_item} == {"MENTIONS"}:
            phrase = f"both mention {shared}."
        else:
            phrase = f"{liked} {_VERB[c.rels[1]['type']]} {shared}, and {item} {_VERB[rel_item]} {shared}."
    return f"You rated {liked} {stars} \u2014 {phrase}"


#: how a relationship reads from the item's side ("<item> <verb> <shared node>")
_VERB = {"DIRECTED": "was directed by", "ACTED_IN": "stars", "MENTIONS": "mentions", "HAS_TAG": "is tagged",
         "HAS_KEYWORD": "has the keyword", "IN_GENRE": "is in the genre", "FROM_COUNTRY": "is from",
         "PRODUCED_BY": "was produced by", "HAS_ATTRIBUTE": "has"}


def _stars(rating: float | None) -> str:
    if rating is None:
        return ""
    text = f"{rating:g}"
    return f"{text}\u2605"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def rank(candidates: Mapping[int, Sequence[Candidate]], order: Sequence[int], paths: int,
         contributions: Mapping[int, Mapping[int, float]] | None = None,
         recency_half_life_days: float = 365.0) -> dict[int, list[tuple[Candidate, str, float, float | None]]]:
    """Choose ``paths`` candidates per item, in the ranking's ``order``: (candidate, kind, weight,
    the liked item's model contribution).

    Weight = specificity of the shared node x the liked item's rating x recency x (model contribution
    where known); across the top-k list, kinds and liked items already used are discounted so the
    explanations stay varied. Works on fetched paths and on in-memory candidates alike.
    """
    contributions = contributions or {}
    newest = max((c.ts or 0 for cs in candidates.values() for c in cs), default=0)
    used_kinds: Counter[str] = Counter()
    used_liked: Counter[int] = Counter()
    chosen: dict[int, list[tuple[Candidate, str, float, float | None]]] = {}
    for item in order:
        scored = []
        contrib = contributions.get(item, {})
        for c in candidates.get(item, ()):
            kind = kind_of(c)
            rating_factor = (c.rating or 4.5) / 5.0
            age_days = max(0.0, (newest - (c.ts or newest)) / 86400.0)
            recency = 0.5 + 0.5 * math.pow(0.5, age_days / recency_half_life_days)
            share = contrib.get(c.liked_id) if c.liked_id is not None else None
            model = 1.0 + max(share or 0.0, 0.0) * 10.0 if share is not None else 1.0
            scored.append((KIND_PRIOR.get(kind, 1.0) * specificity(c) * rating_factor * recency * model, kind, c,
                           share))
        picked: list[tuple[Candidate, str, float, float | None]] = []
        seen_paths: set[tuple] = set()
        local_kinds: Counter[str] = Counter()
        local_liked: Counter[int] = Counter()
        while len(picked) < paths and scored:
            def adjusted(entry: tuple) -> float:
                weight, kind, c, _ = entry
                repeats = used_kinds[kind] * 0.25 + local_kinds[kind] + local_liked[c.liked_id] * 0.5 \
                    + used_liked[c.liked_id] * 0.25
                return weight * DIVERSITY_PENALTY ** repeats

            best = max(scored, key=adjusted)
            scored.remove(best)
            weight, kind, c, share = best
            key = _path_key(c)
            if key in seen_paths:
                continue
            seen_paths.add(key)
            local_kinds[kind] += 1
            local_liked[c.liked_id] += 1
            picked.append((c, kind, adjusted(best), share))
        for c, kind, _, _ in picked:
            used_kinds[kind] += 1
            if c.liked_id is not None:
                used_liked[c.liked_id] += 1
        chosen[item] = picked
    return chosen


def _path_key(c: Candidate) -> tuple:
    if c.spec is not None:
        return tuple(sorted(c.spec.items()))
    return tuple(f"{n['labels']}{n.get('id')}{n.get('name')}" for n in c.nodes)


def select(candidates: Mapping[int, Sequence[Candidate]], order: Sequence[int], paths: int,
           contributions: Mapping[int, Mapping[int, float]] | None = None) -> dict[int, list[Explanation]]:
    """The top ``paths`` explanations per item (see ``rank``), rendered from their literal paths."""
    return {item: [Explanation(kind=kind, text=render(c, kind), path=candidate_path(c), liked_item=c.liked_id,
                               shared=node_ref(c.nodes[2]) if len(c.nodes) == 4 else None, weight=weight,
                               contribution=share, shared_degree=c.degree if len(c.nodes) == 4 else None)
                   for c, kind, weight, share in picked]
            for item, picked in rank(candidates, order, paths, contributions).items()}


def explain_items(graph: Graph, user: int, items: Sequence[int], paths: int = 3, min_rating: float = 4.0,
                  contributions: Mapping[int, Mapping[int, float]] | None = None,
                  titles: dict[int, str] | None = None, likes: Likes | None = None) -> dict[int, list[Explanation]]:
    """The top ``paths`` explanations for each item (in the order given), found by walking the graph in
    one round trip (plus one to read the user's likes unless ``likes`` is given). Items missing from the
    graph are left out; pass ``titles`` to receive the items' titles. Serving uses the in-memory
    candidates instead (explain/service.py) and walks only for what the model does not know."""
    likes = likes if likes is not None else Likes.read(graph, user, min_rating)
    candidates, found = fetch_candidates(graph, user, items, likes, per_kind=max(3, paths))
    if titles is not None:
        titles.update(found)
    return select(candidates, [i for i in items if i in found], paths, contributions)


def path_exists(graph: Graph, path: Mapping[str, Any]) -> bool:
    """True when a separate MATCH finds every relationship of ``path`` between the nodes it names."""
    nodes = path["nodes"]
    rels = [{"index": i, "type": r["type"],
             "start_label": nodes[r["start"]]["labels"][0], "start_key": nodes[r["start"]]["key"],
             "start_value": nodes[r["start"]]["value"],
             "end_label": nodes[r["end"]]["labels"][0], "end_key": nodes[r["end"]]["key"],
             "end_value": nodes[r["end"]]["value"]} for i, r in enumerate(path["relationships"])]
    rows = graph.read("explain/validate_path", rels=rels)
    return len(rows) == len(rels) and all(row["found"] for row in rows)
