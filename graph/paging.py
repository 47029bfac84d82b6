"""Keyset-paged reads: a large result (every interaction, the whole catalogue) read as many short read
transactions, one page per record, so neither the server nor the client ever holds all of it at once.

A paged query takes ``$after`` (the last key of the previous page; every integer id is above the first
value) and ``$limit`` (keys per page), and returns one record with ``last`` (this page's last key) and the
page's rows as lists, e.g. ``cypher/train/ratings.cypher``. No record, or ``last`` null, ends the read.
Pages are separate transactions: a write between two pages may be seen by the later one only.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kgrec.graph import cypher

#: keys (users, items) per page by default
PAGE = 5000
#: below every integer id: where paging starts
FIRST = -(2**63)


def is_paged(query: str) -> bool:
    """True for a query written for :func:`pages` (it reads ``$after``)."""
    return "$after" in cypher.load(query)


def pages(graph: Any, query: str, page: int = PAGE, **params: object) -> Iterator[dict[str, Any]]:
    """The records of a keyset-paged read, one short read transaction per page, until a page is empty."""
    after: object = FIRST
    while True:
        rows = graph.read_plain(query, after=after, limit=page, **params)
        if not rows or rows[0]["last"] is None:
            return
        yield rows[0]
        after = rows[0]["last"]
