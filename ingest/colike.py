"""``(:Item)-[:CO_LIKED {users}]->(:Item)``: pairs of items liked (a positive by the catalogue's signal
model: a rating at or above its like line, a play, a purchase …) by at least ``KGREC_COLIKE_MIN_USERS``
users in common, computed with scipy from the interactions in the graph.

Each item keeps its ``KGREC_COLIKE_TOP`` partners with the most common likers (ties: lower partner
id first); a pair is stored once, lower id -> higher id, when either of its two items keeps it, so
an item's degree can exceed the cap when it is in other items' top lists. Queries treat the
relationship as undirected. The rebuild is idempotent: stale pairs are deleted, missing or changed
ones written, so the result equals "delete all, write all" while a re-run writes nothing.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from kgrec.catalogue import signals
from kgrec.catalogue.schema import Catalogue
from kgrec.config import Settings
from kgrec.graph.connection import Graph
from kgrec.ingest.writer import collected


@dataclass
class CoLikedResult:
    pairs: int
    written: int
    deleted: int
    seconds: float


def co_liked_pairs(likes: list[tuple[int, int]], min_users: int, top: int) -> dict[tuple[int, int], int]:
    """``[(user, item), …]`` -> ``{(lower item, higher item): users in common}`` under the rules above."""
    if not likes:
        return {}
    users, items = np.unique(np.array([u for u, _ in likes])), np.unique(np.array([i for _, i in likes]))
    u_idx = np.searchsorted(users, [u for u, _ in likes])
    i_idx = np.searchsorted(items, [i for _, i in likes])
    x = sp.csr_matrix((np.ones(len(likes), dtype=np.int32), (u_idx, i_idx)), shape=(len(users), len(items)))
    x.data[:] = 1  # a duplicated like counts once
    co = (x.T @ x).tocsr()
    co.setdiag(0)
    co.eliminate_zeros()
    kept: dict[tuple[int, int], int] = {}
    for row in range(co.shape[0]):
        start, end = co.indptr[row], co.indptr[row + 1]
        cols, counts = co.indices[start:end], co.data[start:end]
        ok = counts >= min_users
        cols, counts = cols[ok], counts[ok]
        if not len(cols):
            continue
        order = np.lexsort((items[cols], -counts))[:top]  # most users first, then lower partner id
        a = int(items[row])
        for c, n in zip(items[cols[order]], counts[order]):
            b = int(c)
            kept[(a, b) if a < b else (b, a)] = int(n)
    return kept


def rebuild_co_liked(graph: Graph, settings: Settings, catalogue: Catalogue | None = None) -> CoLikedResult:
    """Recompute CO_LIKED from the graph's interactions and bring the graph to exactly that set.
    ``catalogue``: the graph's own when not given."""
    from kgrec.catalogue.store import active

    start = time.perf_counter()
    likes = liked_pairs(graph, catalogue or active(graph))
    pairs = co_liked_pairs(likes, settings.colike_min_users, settings.colike_top)
    present = {(a, b): n for a, b, n in collected(graph, "ingest/existing_co_liked")}
    stale = [{"a": a, "b": b} for (a, b), n in present.items() if pairs.get((a, b)) != n]
    todo = [{"a": a, "b": b, "users": n} for (a, b), n in pairs.items() if present.get((a, b)) != n]
    deleted = sum(graph.write_batches("ingest/delete_co_liked", stale, settings.batch_size))
    written = sum(graph.write_batches("ingest/co_liked", todo, settings.batch_size))
    return CoLikedResult(len(pairs), written, deleted, time.perf_counter() - start)


def liked_pairs(graph: Graph, catalogue: Catalogue) -> list[tuple[int, int]]:
    """Every (user, item) positive of the graph, by the catalogue's signal model."""
    s = catalogue.signals
    return [(u, i) for u, i, rating, event, weight in collected(graph, "ingest/liked", interaction=s.relationship)
            if signals.is_positive(s, signals.value(s, rating, event, weight))]
