"""In-memory discovery of explanation candidates: which paths are worth fetching.

Walking the graph for every (liked item, shared node, recommended item) triple costs hundreds of
milliseconds and returns hundreds of paths, most of them discarded. The model directory already holds
every item's attributes (a sparse item x attribute matrix, built once per model load), the CO_LIKED
pairs are read once per load, and the request's profile carries the user's ratings and own tags; so
the candidates of all three kinds are found and ranked here, and only the few chosen ones are then
MATCHed literally in Neo4j (cypher/explain/fetch_paths.cypher): a path the graph no longer holds gives
no row and is not shown.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from kgrec.catalogue.schema import Catalogue
from kgrec.explain import trust
from kgrec.explain.lift import Lifts, train_positives
from kgrec.explain.paths import (BROAD_DEGREE, LIKED_SCAN, Candidate, Likes, fetch_paths, kind_of_types, rank,
                                 strength)
from kgrec.graph.connection import Graph
from kgrec.ingest.names import tag_name

#: candidates kept beyond ``per_kind`` per item and kind (and fetched beyond ``paths`` per item): spares for
#: paths whose MATCH fails
SPARE = 1


@dataclass(frozen=True)
class SharedIndex:
    item_ids: np.ndarray       # sorted external ids, the model's index order
    rows: sparse.csr_matrix    # item x attribute; value = relation index + 1 (the kind of link)
    degree: np.ndarray         # items per attribute (a proxy of the node's degree, for the provisional order)
    attr_keys: tuple[str, ...]
    relations: tuple[str, ...]
    attr_lookup: dict[str, int] = field(default_factory=dict)  # attribute key -> column
    degree_list: list[int] = field(default_factory=list)  # ``degree`` as Python ints (read per request)
    #: item id -> {co-liked item id: users}, read from the graph's CO_LIKED relationships at load
    co_liked: dict[int, dict[int, int]] = field(default_factory=dict)
    #: the catalogue schema the model was trained on (kinds of link, node keys, signal strengths)
    catalogue: Catalogue | None = None
    #: per attribute column: never explains (explain/trust.py: a date or number entity; with the graph read,
    #: a tag fewer than ``min_tag_users`` distinct people applied)
    junk: np.ndarray | None = None
    #: (item position x n_attrs + attribute) of minor roles: billed after the attribute's salient cut
    minor: frozenset[int] = frozenset()
    #: KGREC_EXPLAIN_MIN_TAG_USERS
    min_tag_users: int = trust.DEFAULT_MIN_TAG_USERS
    #: how telling each kind of link and node degree is, learned from the training interactions (lift.py)
    lifts: Lifts = field(default_factory=Lifts)

    @classmethod
    def load(cls, model_dir: Path | str, graph: Graph | None = None, catalogue: Catalogue | None = None,
             min_tag_users: int = trust.DEFAULT_MIN_TAG_USERS) -> "SharedIndex":
        """From a model directory's item facts, and with ``graph`` what it holds now (see with_co_liked)."""
        from kgrec.ranking.dataset import Dataset

        data = Dataset.load(Path(model_dir))
        index = cls.build(data.item_ids, data.fact_items, data.fact_attrs, data.fact_relations, data.attr_keys,
                          data.relations, catalogue, min_tag_users)
        index = index.with_co_liked(graph) if graph is not None else index
        return index.with_lifts(train_positives(Path(model_dir), data, index.catalogue.signals.positive))

    def with_lifts(self, positives: sparse.csc_matrix) -> "SharedIndex":
        """A copy that weighs kinds of link by their lift on ``positives`` (users x items, TRAIN positives)."""
        positions = {int(i): n for n, i in enumerate(self.item_ids.tolist())}
        return replace(self, lifts=Lifts.estimate(positives, self.rows, self.attr_keys, self.relations,
                                                  self.catalogue, self.co_liked, positions))

    def with_co_liked(self, graph: Graph) -> "SharedIndex":
        """A copy that knows the graph's CO_LIKED pairs, who applied each tag and the minor roles. Read once
        per model load: a pair added later is missed until the next load, one removed later fails its
        literal MATCH and is not shown."""
        co_liked: dict[int, dict[int, int]] = {}
        for row in graph.stream("explain/co_liked_pairs"):
            co_liked.setdefault(row["a"], {})[row["b"]] = row["users"]
            co_liked.setdefault(row["b"], {})[row["a"]] = row["users"]
        taggers = trust.Taggers.read(graph)
        junk = self.junk.copy()
        for n, key in enumerate(self.attr_keys):
            if key.startswith("Tag:") and taggers.junk(key[4:], self.min_tag_users):
                junk[n] = True
        return replace(self, co_liked=co_liked, junk=junk, minor=self._minor_roles(graph))

    def _minor_roles(self, graph: Graph) -> frozenset[int]:
        cat = self.catalogue
        ordered = [{"rel": a.relationship, "salient": a.salient} for a in cat.attributes
                   if a.ordered and a.salient is not None]
        if not ordered:
            return frozenset()
        n_attrs = max(len(self.attr_keys), 1)
        rows = graph.read_plain("explain/minor_roles", ordered=ordered, attribute_labels=cat.attribute_labels,
                                id_labels=cat.id_labels)
        items = self.positions([r["item"] for r in rows])
        return frozenset(int(pos) * n_attrs + self.attr_lookup[r["attr"]]
                         for pos, r in zip(items.tolist(), rows) if pos >= 0 and r["attr"] in self.attr_lookup)

    @classmethod
    def build(cls, item_ids: np.ndarray, fact_items: np.ndarray, fact_attrs: np.ndarray,
              fact_relations: np.ndarray, attr_keys: Sequence[str], relations: Sequence[str],
              catalogue: Catalogue | None = None,
              min_tag_users: int = trust.DEFAULT_MIN_TAG_USERS) -> "SharedIndex":
        from kgrec.explain.paths import default_catalogue

        catalogue = catalogue or default_catalogue()
        n_items, n_attrs = len(item_ids), len(attr_keys)
        # one entry per (item, attribute), through the most structural relationship the schema ranks: a
        # person who directed an item and is mentioned in its text is its director here (one fact once)
        worst = len(catalogue.attributes)
        rel_rank = np.array([catalogue.rank[catalogue.by_relationship[r].name] if r in catalogue.by_relationship
                             else worst for r in relations] or [worst], dtype=np.int64)
        cell = fact_items.astype(np.int64) * max(n_attrs, 1) + fact_attrs
        by_rank = np.lexsort((rel_rank[fact_relations.astype(np.int64)], cell)) if len(cell) else \
            np.zeros(0, dtype=np.int64)
        _, at = np.unique(cell[by_rank], return_index=True)
        first = by_rank[at]
        rows = sparse.csr_matrix((fact_relations[first].astype(np.int32) + 1, (fact_items[first], fact_attrs[first])),
                                 shape=(n_items, n_attrs))
        rows.sort_indices()
        degree = np.bincount(fact_attrs[first], minlength=n_attrs)
        junk = np.array([k.startswith("Entity:") and trust.junk_entity_id(k[7:]) for k in attr_keys], dtype=bool)
        return cls(np.asarray(item_ids), rows, degree, tuple(attr_keys), tuple(relations),
                   {key: n for n, key in enumerate(attr_keys)}, degree.tolist(),
                   catalogue=catalogue, junk=junk, min_tag_users=min_tag_users)

    def positions(self, ids: Sequence[int]) -> np.ndarray:
        """Model index of each id, -1 where the model does not know it (added after training)."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids) or not len(self.item_ids):
            return np.full(len(ids), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.item_ids, ids), len(self.item_ids) - 1)
        return np.where(self.item_ids[pos] == ids, pos, -1)

    def candidates(self, items: Sequence[int], likes: Likes, interactions: Mapping[int, tuple[float, int]],
                   tagged: Sequence[tuple[str, int, int]] = (), per_kind: int = 3) -> dict[int, list[Candidate]]:
        """In-memory candidates (``Candidate.spec`` set, no path yet) for each item the model knows;
        items it does not know (added after training) are left out, for the graph walk.

        ``likes.liked`` is best-rated-newest-first; ``interactions`` maps a rated id to its (rating, ts);
        ``tagged`` holds the user's own (tag, item, ts). Per item and kind of link, the rarer shared
        nodes and higher ratings come first and ``per_kind + SPARE`` are kept; a broad node (more than
        BROAD_DEGREE items) is only tried against the first LIKED_SCAN liked items, two at most.
        """
        cat = self.catalogue
        positive = cat.signals.positive
        liked_ids = np.asarray(likes.liked, dtype=np.int64)
        liked_pos = self.positions(liked_ids)
        known = liked_pos >= 0
        liked_ids, liked_pos = liked_ids[known], liked_pos[known]
        liked_set = set(likes.liked)
        # liked x attribute, by column: for a shared attribute, which liked items (in liked order) have it
        by_attr = self.rows[liked_pos].tocsc() if len(liked_pos) else None
        if by_attr is not None:
            by_attr.sort_indices()
            liked_counts = np.diff(by_attr.indptr)
            # a broad node is only tried against the first LIKED_SCAN liked items: their own columns
            by_scan = self.rows[liked_pos[:LIKED_SCAN]].tocsc()
            by_scan.sort_indices()
        liked_id_list = liked_ids.tolist()
        # per liked item, once per request: its (rating, ts) and how strongly it vouches
        vouch = {liked: (rating, ts, strength(rating, positive))
                 for liked in liked_set for rating, ts in [interactions.get(liked, (None, 0))]}
        # -vouches and -ts of every liked id (the model's or not), sorted: co-liked partners are looked up in
        # it; and by liked row (the by_attr rows' order) with its position, for the shared nodes
        co_ids = np.array(sorted(liked_set), dtype=np.int64)
        co_neg_vouch = -np.array([vouch[i][2] for i in co_ids.tolist()], dtype=np.float64)
        co_neg_ts = -np.array([vouch[i][1] or 0 for i in co_ids.tolist()], dtype=np.int64)
        row_at = np.searchsorted(co_ids, liked_ids)
        liked_arrays = (liked_pos, co_neg_vouch[row_at], co_neg_ts[row_at])
        # the user's own tags as written (TAGGED.tag), by the aggregated Tag node's attribute (folded name)
        tag_attrs: dict[int, list[tuple[int, int, str]]] = {}
        for tag, tagged_item, ts in tagged:
            attr = self.attr_lookup.get(f"Tag:{tag_name(tag)}")
            if attr is not None:
                tag_attrs.setdefault(attr, []).append((int(tagged_item), int(ts or 0), tag))
        keep = per_kind + SPARE
        ordered_rels = self._tables[2] if self.minor else None
        out: dict[int, list[Candidate]] = {}
        positions = self.positions(items)
        shared = self._shared_candidates([int(i) for i in items], positions, by_attr, liked_counts, by_scan,
                                         liked_arrays, liked_id_list, vouch, ordered_rels, keep) \
            if by_attr is not None else {}
        for index, (item, pos) in enumerate(zip(items, positions)):
            if pos < 0:
                continue
            item = int(item)
            found: list[Candidate] = []
            lo, hi = self.rows.indptr[pos], self.rows.indptr[pos + 1]
            attrs, rels = self.rows.indices[lo:hi], self.rows.data[lo:hi]
            if tag_attrs:
                own = sorted(((-ts, tagged_item, tag, attr) for attr in attrs.tolist()
                              for tagged_item, ts, tag in tag_attrs.get(attr, ()) if tagged_item != item))
                for neg_ts, tagged_item, tag, attr in own[:keep]:  # the newest first
                    found.append(Candidate(
                        "your_tag", [], [], self.degree_list[attr], None, -neg_ts, tagged_item, kind="your_tag",
                        spec={"item": item, "via": "your_tag", "liked": tagged_item, "tag": tag,
                              "value": self.attr_keys[attr].split(":", 1)[1]}))
            found.extend(shared.get(index, ()))
            # co-liked: as the graph walk keeps them, the best-rated and newest liked items first
            partners, users = self._partners(item)
            if len(partners) and len(co_ids):
                at = np.minimum(np.searchsorted(co_ids, partners), len(co_ids) - 1)
                hit = co_ids[at] == partners
                at, liked, users = at[hit], partners[hit], users[hit]
                for n in np.lexsort((users, liked, co_neg_ts[at], co_neg_vouch[at]))[:keep].tolist():
                    found.append(Candidate("co_liked", [], [], int(users[n]),
                                           interactions.get(int(liked[n]), (None, 0))[0], -int(co_neg_ts[at[n]]),
                                           int(liked[n]), kind="co_liked",
                                           spec={"item": item, "via": "co_liked", "liked": int(liked[n])}))
            out[item] = found
        return out

    def _partners(self, item: int) -> tuple[np.ndarray, np.ndarray]:
        """The item's co-liked partners (ids) and their users, as arrays: built on first use per model load."""
        held = self._partner_arrays.get(item)
        if held is None:
            partners = self.co_liked.get(item, {})
            held = (np.fromiter(partners.keys(), dtype=np.int64, count=len(partners)),
                    np.fromiter(partners.values(), dtype=np.int64, count=len(partners)))
            self._partner_arrays[item] = held
        return held

    @cached_property
    def _partner_arrays(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        return {}

    @cached_property
    def _tables(self) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray, np.ndarray]:
        """Per model load: the kind of link of each (item's relation value, liked item's relation value) as
        an index into the kind names (as kind_of reads a fetched path: one relationship type on both sides
        names the kind); which relation values are ordered attributes with a salient cut (where a minor role
        can be); log(2 + degree) per attribute; the minor roles' codes, sorted."""
        cat = self.catalogue
        n = len(self.relations) + 1  # relation values are index + 1
        names: list[str] = []
        table = np.zeros((n, n), dtype=np.int64)
        for item_rel in range(1, n):
            for liked_rel in range(1, n):
                kind = kind_of_types(cat, self.relations[liked_rel - 1], self.relations[item_rel - 1])
                if kind not in names:
                    names.append(kind)
                table[item_rel, liked_rel] = names.index(kind)
        ordered = np.zeros(n, dtype=bool)
        for v, r in enumerate(self.relations, start=1):
            a = cat.by_relationship.get(r)
            ordered[v] = a is not None and a.ordered and a.salient is not None
        # math.log, as the ranking has always computed it (numpy's log may differ in the last bit)
        log_degree = np.array([math.log(2.0 + d) for d in self.degree_list], dtype=np.float64)
        minor = np.array(sorted(self.minor), dtype=np.int64)
        return table, names, ordered, log_degree, minor

    def _shared_candidates(self, items: list[int], positions: np.ndarray, by_attr: sparse.csc_matrix,
                           liked_counts: np.ndarray, by_scan: sparse.csc_matrix,
                           liked_arrays: tuple[np.ndarray, np.ndarray, np.ndarray], liked_ids: list[int],
                           vouch: Mapping[int, tuple[Any, Any, float]], ordered_rels: np.ndarray | None,
                           keep: int) -> dict[int, list[Candidate]]:
        """The 'shared' candidates of each item, by its index in ``items`` (``positions``: their model
        positions, -1 for none): for
        every attribute the item shares with a liked item (never junk, explain/trust.py), the liked items that
        have it (a broad one: among the first LIKED_SCAN liked items, two at most), grouped per item by kind of
        link in order of first appearance, each group ordered by salient role, then rarer node and stronger
        vouching, then newer (stable), and its first ``keep`` kept. Computed over arrays for all the items at
        once: a long profile shares hundreds of attributes with each item."""
        table, names, _, log_degree, minor_codes = self._tables
        liked_pos, neg_vouch, neg_ts = liked_arrays
        known = np.flatnonzero(positions >= 0)
        if not len(known):
            return {}
        rows = self.rows[positions[known]]
        item_of = known[np.repeat(np.arange(len(known)), np.diff(rows.indptr))]  # index into ``items``
        attrs, rels = rows.indices.astype(np.int64), rows.data.astype(np.int64)
        shared = (liked_counts[attrs] > 0) & ~self.junk[attrs]
        attrs, rels, item_of = attrs[shared], rels[shared], item_of[shared]
        if not len(attrs):
            return {}
        broad = self.degree[attrs] > BROAD_DEGREE
        # each (item, attribute)'s liked rows (in liked order) from by_attr, or from by_scan for a broad one
        starts = np.where(broad, by_scan.indptr[attrs] + len(by_attr.indices), by_attr.indptr[attrs])
        counts = np.where(broad, by_scan.indptr[attrs + 1] - by_scan.indptr[attrs],
                          by_attr.indptr[attrs + 1] - by_attr.indptr[attrs])
        total = int(counts.sum())
        if not total:
            return {}
        owner = np.repeat(np.arange(len(attrs)), counts)
        at = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        who = np.concatenate([by_attr.indices, by_scan.indices])[at].astype(np.int64)
        other = np.concatenate([by_attr.data, by_scan.data])[at].astype(np.int64)
        pos = positions[item_of[owner]]
        mine = liked_pos[who] != pos  # never the item itself
        owner, who, other, pos = owner[mine], who[mine], other[mine], pos[mine]
        if not len(owner):
            return {}
        first = np.searchsorted(owner, owner)  # rows are grouped by (item, attribute): each one's place in it
        fits = ~broad[owner] | (np.arange(len(owner)) - first < 2)
        owner, who, other, pos = owner[fits], who[fits], other[fits], pos[fits]
        attr, rel, item_at = attrs[owner], rels[owner], item_of[owner]
        if ordered_rels is not None and len(minor_codes):
            n_attrs = max(len(self.attr_keys), 1)
            minor = (ordered_rels[rel] & _member(pos * n_attrs + attr, minor_codes)) | \
                (ordered_rels[other] & _member(liked_pos[who] * n_attrs + attr, minor_codes))
        else:
            minor = np.zeros(len(owner), dtype=bool)
        kind = table[rel, other]
        # groups: (item, kind), in order of first appearance (items come in order, so per item too); within
        # one: (minor, -vouches / log(2 + degree), -ts), stable
        keys, first_at = np.unique(item_at * len(names) + kind, return_index=True)
        group = np.empty(int(keys.max()) + 1, dtype=np.int64)
        group[keys] = np.argsort(np.argsort(first_at))
        g = group[item_at * len(names) + kind]
        order = np.lexsort((neg_ts[who], neg_vouch[who] / log_degree[attr], minor, g))
        g_sorted = g[order]
        order = order[np.arange(len(order)) - np.searchsorted(g_sorted, g_sorted) < keep]
        cat = self.catalogue
        out: dict[int, list[Candidate]] = {}
        for n in order.tolist():
            a, liked, liked_rel, item_rel = int(attr[n]), liked_ids[who[n]], int(other[n]), int(rel[n])
            item = items[item_at[n]]
            rating, ts, _ = vouch[liked]
            label, value = self.attr_keys[a].split(":", 1)
            # the relationship types too: the fetched path is the one ranked here (a person who made one
            # item and plays in another is one link on both sides)
            out.setdefault(int(item_at[n]), []).append(Candidate(
                "shared", [], [], self.degree_list[a], rating, ts, liked, kind=names[kind[n]], minor=bool(minor[n]),
                spec={"item": item, "via": "shared", "liked": liked, "label": label,
                      "key": cat.key_by_label.get(label, "id"), "value": value,
                      "liked_rel": self.relations[liked_rel - 1], "item_rel": self.relations[item_rel - 1]}))
        return out


def _member(codes: np.ndarray, sorted_codes: np.ndarray) -> np.ndarray:
    """Whether each code is in ``sorted_codes`` (non-empty, sorted)."""
    at = np.minimum(np.searchsorted(sorted_codes, codes), len(sorted_codes) - 1)
    return sorted_codes[at] == codes


def choose(index: SharedIndex, items: Sequence[int], likes: Likes, interactions: Mapping[int, tuple[float, int]],
           tagged: Sequence[tuple[str, int, int]] = (), paths: int = 3,
           contributions: Mapping[int, Mapping[int, float]] | None = None,
           found: Mapping[int, Sequence[Candidate]] | None = None) -> list[dict[str, Any]]:
    """The specs (``Candidate.spec``) of the best in-memory candidates, ``paths + SPARE`` per item, ranked as
    the final selection ranks them: what :func:`fetch_paths` then MATCHes literally. ``found``: the
    candidates when the caller has them already. Items the index does not know get none here."""
    found = found if found is not None else index.candidates(items, likes, interactions, tagged, max(3, paths))
    chosen = rank({i: found[i] for i in items if i in found}, list(items), paths + SPARE, index.catalogue,
                  contributions, index.lifts)
    return [c.spec for picked in chosen.values() for c, _, _, _ in picked]


def fetch_chosen(graph: Graph, index: SharedIndex, user: int, items: Sequence[int], likes: Likes,
                 interactions: Mapping[int, tuple[float, int]], tagged: Sequence[tuple[str, int, int]] = (),
                 paths: int = 3, contributions: Mapping[int, Mapping[int, float]] | None = None,
                 found: Mapping[int, Sequence[Candidate]] | None = None
                 ) -> tuple[dict[int, list[Candidate]], dict[int, str]]:
    """The literal paths of the candidates :func:`choose` picks, and the items' titles, in one round trip."""
    return fetch_paths(graph, user, items, choose(index, items, likes, interactions, tagged, paths, contributions,
                                                  found), index.catalogue)
