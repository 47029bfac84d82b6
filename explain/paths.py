"""Explanations as literal paths: fetch candidate paths from Neo4j, rank them, and render them.

A path is returned exactly as the database gave it: nodes (each identified by a label and its unique key,
so ``MATCH (n:Label {key: value})`` finds it again) and relationships indexed into that node list.
Nothing here invents a link; ranking only chooses among the paths Neo4j returned.
"""
from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kgrec.catalogue import signals
from kgrec.catalogue.schema import Catalogue
from kgrec.explain import trust
from kgrec.explain.lift import Lifts
from kgrec.graph import cypher
from kgrec.graph.connection import Graph
from kgrec.ingest.names import tag_name

#: how telling each built-in kind of link is, beside its rarity (a declared attribute's prior falls with its
#: rank in the catalogue schema: its first, most structural attribute says most)
BUILTIN_PRIOR = {"your_tag": 1.4, "co_liked": 1.0, "social": 1.2, "tag": 0.75, "entity": 0.9, "attribute": 0.9,
                 "shared": 1.3}
#: how much a repeated kind / liked item is discounted when varying the explanations of a top-k list
DIVERSITY_PENALTY = 0.7
#: the kind of a path whose two sides reach one node through different relationships (a person who directed
#: the liked item and acts in the recommended one)
MIXED = "shared"


def kind_prior(catalogue: Catalogue, kind: str) -> float:
    if kind in BUILTIN_PRIOR:
        return BUILTIN_PRIOR[kind]
    declared = [a for a in catalogue.attributes if not a.builtin]
    spec = catalogue.by_name.get(kind)
    if spec is None or spec.broad:
        return 1.0
    rank = declared.index(spec) if spec in declared else len(declared)
    return max(0.9, 1.6 - 0.25 * rank)


def specific_kinds(catalogue: Catalogue) -> set[str]:
    """Kinds whose shared node is specific (a person, a brand, a tag) rather than broad (a genre)."""
    return {a.name for a in catalogue.attributes if not a.broad} | {"your_tag", MIXED}


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
    #: the cited item's share of the evidence the served model scored the item with (explain/trust.py shares)
    contribution_share: float | None = None
    #: the main reason: the first explanation, when removing its item would lower the score (share > 0)
    main: bool = False

    def to_dict(self) -> dict[str, Any]:
        out = {"text": self.text, "kind": self.kind, "path": self.path, "liked_item": self.liked_item,
               "weight": round(self.weight, 4), "main": self.main,
               "contribution_share": None if self.contribution_share is None else round(self.contribution_share, 4)}
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
    #: found in memory: a person billed after the salient cut on either side (a fetched path shows it itself)
    minor: bool = False


def primary_label(labels: Sequence[str], catalogue: Catalogue) -> str:
    for label in catalogue.label_order:
        if label in labels:
            return label
    return labels[0]


def node_ref(node: Mapping[str, Any], catalogue: Catalogue) -> dict[str, Any]:
    """A node as the API shows it: enough to MATCH it again, plus a display name."""
    label = primary_label(node["labels"], catalogue)
    key = catalogue.key_by_label.get(label, "id")
    value = node.get(key) if key != "name" else node.get("name")
    labels = [label] + sorted(set(node["labels"]) - {label})
    is_item = "Item" in node["labels"]
    title = node.get("title") if is_item else None
    name = node.get("name") or node.get("title")
    name = display_title(title or name, catalogue) if is_item and (title or name) else \
        name or (f"User {value}" if label == "User" else str(value))
    return {"labels": labels, "key": key, "value": value, "name": name}


_ARTICLES = re.compile(r"^(?P<rest>.+), (?P<article>The|A|An|Les|Le|La|L'|Il|Das|Der|Die|El|Los|Las)(?P<tail> \(.*\))?$")


def display_title(title: str, catalogue: Catalogue) -> str:
    """Some catalogues file titles as "Shawshank Redemption, The" (``item.title_article_suffix``); people
    read "The Shawshank Redemption"."""
    match = _ARTICLES.match(title) if catalogue.title_article_suffix else None
    if not match:
        return title
    sep = "" if match["article"].endswith("'") else " "
    return f"{match['article']}{sep}{match['rest']}{match['tail'] or ''}"


def node_refs(catalogue: Catalogue) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """``node_ref`` computed once per node over many paths (a request's paths share its user, its items and
    many liked items; each path's nodes are named for its text, its path and its shared node)."""
    memo: dict[tuple, dict[str, Any]] = {}

    def ref(node: Mapping[str, Any]) -> dict[str, Any]:
        if not node.keys() <= _REF_KEYS:  # other properties (a walk's nodes): not memoised
            return node_ref(node, catalogue)
        key = (tuple(node["labels"]), node.get("id"), node.get("name"), node.get("title"))
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = node_ref(node, catalogue)
        return hit
    return ref


_REF_KEYS = frozenset(("labels", "id", "name", "title"))


def candidate_path(c: Candidate, catalogue: Catalogue,
                   ref: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None) -> dict[str, Any]:
    ref = ref or (lambda n: node_ref(n, catalogue))
    return {
        "nodes": [ref(n) for n in c.nodes],
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
    """Where a user's explanations can start: liked item ids (strongest, newest first) and own tags."""

    liked: list[int]
    tags: list[str]

    @classmethod
    def from_profile(cls, profile: Sequence[tuple[int, float, int]], tags: Sequence[str],
                     positive: float) -> "Likes":
        """``profile``: (item, value under the signal model, ts); a positive is a value >= ``positive``."""
        ranked = sorted((p for p in profile if p[1] >= positive), key=lambda p: (-p[1], -p[2]))
        return cls([p[0] for p in ranked], list(tags))

    @classmethod
    def read(cls, graph: Graph, user: int, catalogue: Catalogue | None = None) -> "Likes":
        """``catalogue``: the graph's own when not given."""
        from kgrec.catalogue.store import active

        catalogue = catalogue or active(graph)
        rows = graph.read("explain/user_likes", user=user, interaction=catalogue.signals.relationship)
        if not rows:
            return cls([], [])
        s = catalogue.signals
        profile = [(i, signals.value(s, r, e, w), ts or 0) for i, r, e, w, ts in rows[0]["interactions"]]
        return cls.from_profile([p for p in profile if p[1] is not None], rows[0]["tags"], s.positive)


def _path_params(catalogue: Catalogue) -> dict[str, Any]:
    return {"interaction": catalogue.signals.relationship, "attribute_types": catalogue.attribute_types}


def _junk_params(min_tag_users: int, junk: bool = True) -> dict[str, Any]:
    """What the graph walk must not explain through (explain/trust.py); ``junk=False``: anything goes (the
    baselines of bench/explanations.py)."""
    if not junk:
        return {"min_tag_users": 0, "junk_entities": []}
    return {"min_tag_users": min_tag_users, "junk_entities": list(trust.JUNK_ENTITY_LABELS)}


def _candidates(rows: Sequence[Mapping[str, Any]], catalogue: Catalogue) -> dict[int, list[Candidate]]:
    """Candidates from fetched rows; ``rating`` is the starting interaction's value under the signal model."""
    s = catalogue.signals
    out: dict[int, list[Candidate]] = {}
    for row in rows:
        found = out.setdefault(row["item"], [])
        for c in row["candidates"]:
            cand = Candidate(**c)
            if cand.via != "your_tag" and cand.rels:
                props = cand.rels[0]["properties"]
                cand.rating = signals.value(s, props.get("rating"), props.get("event"), props.get("weight"))
            found.append(cand)
    return out


def fetch_candidates(graph: Graph, user: int, items: Sequence[int], likes: Likes, catalogue: Catalogue,
                     per_kind: int = 3, min_tag_users: int = trust.DEFAULT_MIN_TAG_USERS, junk: bool = True
                     ) -> tuple[dict[int, list[Candidate]], dict[int, str]]:
    """Candidate paths for every item, found by walking the graph from ``likes``, and the items' titles,
    in one round trip (UNWIND). Junk shared nodes (explain/trust.py) are not walked through."""
    tags = [{"name": tag_name(t), "raw": t} for t in likes.tags]
    rows = graph.read_plain("explain/paths", user=user, items=list(items), liked=likes.liked, tags=tags,
                            per_kind=per_kind, broad=BROAD_DEGREE, scan=LIKED_SCAN, **_path_params(catalogue),
                            **_junk_params(min_tag_users, junk))
    return _candidates(rows, catalogue), {row["item"]: row["title"] for row in rows}


def fetch_paths(graph: Graph, user: int, items: Sequence[int], specs: Sequence[Mapping[str, Any]],
                catalogue: Catalogue) -> tuple[dict[int, list[Candidate]], dict[int, str]]:
    """The literal paths of candidates chosen in memory (``Candidate.spec``), and the items' titles, in
    one round trip; a spec the graph no longer holds is simply missing from the result."""
    rels = {*catalogue.attribute_types, *(s[side] for s in specs if s["via"] == "shared"
                                          for side in ("liked_rel", "item_rel"))}
    statement = cypher.render("explain/fetch_paths", attribute_rels=cypher.AnyOf(sorted(rels) or ["HAS_ATTRIBUTE"]))
    rows = graph.read_plain(statement, user=user, items=list(items), specs=list(specs), **_path_params(catalogue))
    return _candidates(rows, catalogue), {row["item"]: row["title"] for row in rows}


def kind_of(c: Candidate, catalogue: Catalogue) -> str:
    """The kind of link a candidate stands for: the attribute both sides' relationship type belongs to (a
    shared director), or MIXED when the two sides reach the node differently."""
    if c.kind is not None:
        return c.kind
    if c.via != "shared":
        return c.via
    return kind_of_types(catalogue, c.rels[1]["type"], c.rels[2]["type"])


def kind_of_types(catalogue: Catalogue, liked_rel: str, item_rel: str) -> str:
    if liked_rel == item_rel and liked_rel in catalogue.by_relationship:
        return catalogue.by_relationship[liked_rel].name
    return MIXED


def specificity(c: Candidate) -> float:
    """Higher for rarer shared nodes: a maker of 4 items says more than a category of 4,000."""
    if c.via == "co_liked":
        # a co-liking pair supported by many users is a strong, if unspecific, signal
        return 0.6 * (1.0 - math.exp(-max(c.degree, 0) / 20.0))
    return 1.0 / math.log2(2.0 + max(c.degree, 0))


def render(c: Candidate, kind: str, catalogue: Catalogue,
           ref: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None) -> str:
    """One sentence for a path; every name in it is a node on the path, and the interaction it starts
    from is phrased as the catalogue's signal model says ("You rated …", "You played … 212 times")."""
    names = [(ref(n) if ref else node_ref(n, catalogue))["name"] for n in c.nodes]
    item = names[-1]
    if c.via == "your_tag":
        tag = names[2]
        return f"You tagged {names[1]} \u201c{tag}\u201d, and {item} is tagged \u201c{tag}\u201d too."
    liked = names[1]
    lead = signals.phrase(catalogue.signals, c.rels[0]["properties"], liked)
    if c.via == "co_liked":
        return f"{lead}; people who liked {liked} also liked {item}."
    shared = names[2]
    spec = catalogue.by_name.get(kind)
    phrase = spec.phrase.format(item=item, name=shared, a=_article(shared)) if spec is not None \
        else f"both involve {shared}"
    return f"{lead} \u2014 {phrase}."


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def rank(candidates: Mapping[int, Sequence[Candidate]], order: Sequence[int], paths: int, catalogue: Catalogue,
         contributions: Mapping[int, Mapping[int, float]] | None = None, lifts: Lifts | None = None,
         recency_half_life_days: float = 365.0) -> dict[int, list[tuple[Candidate, str, float, float | None]]]:
    """Choose ``paths`` candidates per item, in the ranking's ``order``: (candidate, kind, weight, the cited
    item's contribution share; None where the model has no contributions for the item).

    Only trusted candidates (explain/trust.py: no minor role where something salient is shared, each fact
    through its most structural relationship) are chosen, one path per fact. Those whose cited item would
    not lower the score if removed (share <= 0) are used only for an item nothing else explains; the chosen
    ones come ordered by share. Weight = how telling the kind of link through a node of that degree is (its
    ``lifts``, learned from training interactions; without them a hand-set prior x the node's rarity) x the
    liked item's rating x recency x (1 + 10 x share); across the top-k list, kinds and liked items already
    used are discounted so the explanations stay varied. Works on fetched paths and in-memory candidates.
    """
    contributions = contributions or {}
    positive = catalogue.signals.positive
    newest = max((c.ts or 0 for cs in candidates.values() for c in cs), default=0)
    used_kinds: Counter[str] = Counter()
    used_liked: Counter[int] = Counter()
    chosen: dict[int, list[tuple[Candidate, str, float, float | None]]] = {}
    for item in order:
        contrib = contributions.get(item)
        share_of = trust.Shares(contrib) if contrib is not None else None
        faithful, unfaithful = [], []
        for c in trust.trusted(candidates.get(item, ()), catalogue):
            kind = kind_of(c, catalogue)
            rating_factor = strength(c.rating, positive)
            age_days = max(0.0, (newest - (c.ts or newest)) / 86400.0)
            recency = 0.5 + 0.5 * math.pow(0.5, age_days / recency_half_life_days)
            # an item outside the model's profile (a tagged, unrated one; one added after training) adds nothing
            share = None if share_of is None else share_of.get(c.liked_id, 0.0) if c.liked_id is not None else 0.0
            model = 1.0 + max(share or 0.0, 0.0) * 10.0
            telling = lifts.of("tag" if kind == "your_tag" else kind, c.degree) if lifts \
                else kind_prior(catalogue, kind) * specificity(c)
            entry = (telling * rating_factor * recency * model, kind, c, share)
            (faithful if share is None or share > 0 else unfaithful).append(entry)
        picked: list[tuple[Candidate, str, float, float | None]] = []
        seen_paths: set[tuple] = set()
        seen_facts: set[str] = set()
        local_kinds: Counter[str] = Counter()
        local_liked: Counter[int] = Counter()

        def adjusted(entry: tuple) -> float:
            weight, kind, c, _ = entry
            repeats = used_kinds[kind] * 0.25 + local_kinds[kind] + local_liked[c.liked_id] * 0.5 \
                + used_liked[c.liked_id] * 0.25
            return weight * DIVERSITY_PENALTY ** repeats

        for scored in (faithful, unfaithful):
            if scored is unfaithful and picked:
                break  # an item whose removal would not lower the score explains only an item nothing else does
            for best in _greedy(scored, adjusted):
                if len(picked) >= paths:
                    break
                weight, kind, c, share = best
                key, fact = _path_key(c), trust.fact_of(c)
                if key in seen_paths or fact in seen_facts:
                    continue
                seen_paths.add(key)
                if fact is not None:
                    seen_facts.add(fact)
                local_kinds[kind] += 1
                local_liked[c.liked_id] += 1
                picked.append((c, kind, adjusted(best), share))
        for c, kind, _, _ in picked:
            used_kinds[kind] += 1
            if c.liked_id is not None:
                used_liked[c.liked_id] += 1
        chosen[item] = trust.ordered(picked, 3)
    return chosen


def _greedy(entries: Sequence[Any], value: Any) -> Any:
    """``entries`` in the order that taking the highest ``value`` each time would take them (the first in
    list order among equals), where the caller's picks may lower (never raise) the others' values: a lazy
    heap recomputes only the entries that reach its top instead of every entry per pick."""
    heap = [(-value(e), n) for n, e in enumerate(entries)]
    heapq.heapify(heap)
    while heap:
        stored, n = heap[0]
        now = -value(entries[n])
        if now != stored:  # fell since it was pushed: back in at its current value
            heapq.heapreplace(heap, (now, n))
            continue
        heapq.heappop(heap)
        yield entries[n]


def _path_key(c: Candidate) -> tuple:
    if c.spec is not None:
        return tuple(sorted(c.spec.items()))
    return tuple(f"{n['labels']}{n.get('id')}{n.get('name')}" for n in c.nodes)


def select(candidates: Mapping[int, Sequence[Candidate]], order: Sequence[int], paths: int,
           contributions: Mapping[int, Mapping[int, float]] | None = None,
           catalogue: Catalogue | None = None, lifts: Lifts | None = None) -> dict[int, list[Explanation]]:
    """The top ``paths`` explanations per item (see ``rank``), rendered from their literal paths.
    ``catalogue``: the default catalogue when not given."""
    catalogue = catalogue or default_catalogue()
    contributions = contributions or {}
    ref = node_refs(catalogue)
    return {item: [Explanation(kind=kind, text=render(c, kind, catalogue, ref), path=candidate_path(c, catalogue, ref),
                               liked_item=c.liked_id,
                               shared=ref(c.nodes[2]) if len(c.nodes) == 4 else None, weight=weight,
                               contribution=contributions.get(item, {}).get(c.liked_id) if share is not None else None,
                               shared_degree=c.degree if len(c.nodes) == 4 else None,
                               contribution_share=share, main=n == 0 and share is not None and share > 0)
                   for n, (c, kind, weight, share) in enumerate(picked)]
            for item, picked in rank(candidates, order, paths, catalogue, contributions, lifts).items()}


def default_catalogue() -> Catalogue:
    from kgrec.catalogue.schema import load
    from kgrec.catalogue.store import DEFAULT

    return load(DEFAULT)


def strength(value: float | None, positive: float) -> float:
    """How strongly an interaction vouches for what it starts, in 0.5..1: a like at the catalogue's line
    0.9, a top rating or many plays 1.0 (a path from an unknown value counts as a like)."""
    v = positive if value is None else value
    return 0.5 + 0.5 * min(1.0, max(v, 0.0) / (1.25 * positive)) if positive > 0 else 1.0


def explain_items(graph: Graph, user: int, items: Sequence[int], paths: int = 3,
                  contributions: Mapping[int, Mapping[int, float]] | None = None,
                  titles: dict[int, str] | None = None, likes: Likes | None = None,
                  catalogue: Catalogue | None = None,
                  min_tag_users: int = trust.DEFAULT_MIN_TAG_USERS) -> dict[int, list[Explanation]]:
    """The top ``paths`` explanations for each item (in the order given), found by walking the graph in
    one round trip (plus one to read the user's likes unless ``likes`` is given). Items missing from the
    graph are left out; pass ``titles`` to receive the items' titles. Serving uses the in-memory
    candidates instead (serve/explaining.py) and walks only for what the model does not know."""
    from kgrec.catalogue.store import active

    catalogue = catalogue or active(graph)
    likes = likes if likes is not None else Likes.read(graph, user, catalogue)
    candidates, found = fetch_candidates(graph, user, items, likes, catalogue, per_kind=max(3, paths),
                                         min_tag_users=min_tag_users)
    if titles is not None:
        titles.update(found)
    return select(candidates, [i for i in items if i in found], paths, contributions, catalogue)


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
