"""What one ingest run intends to write: rows per write step, de-duplicated by each step's key.

A step is one Cypher write file (``cypher/ingest/<name>.cypher``, ``UNWIND $rows … MERGE``) plus a
read-back file (``cypher/ingest/existing_<name>.cypher``) that returns the rows already in the graph
in the same shape, so a re-run sends only new or changed rows.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Step:
    name: str
    fields: tuple[str, ...]
    key: tuple[str, ...]
    what: str  # the node label or relationship type it writes, for progress bars

    @property
    def write_query(self) -> str:
        return f"ingest/{self.name}"

    @property
    def read_query(self) -> str:
        return f"ingest/existing_{self.name}"


# In write order: nodes before the relationships that MATCH them; entities last (their patterns
# come from the names already in the graph).
STEPS: tuple[Step, ...] = (
    Step("user", ("id",), ("id",), ":User"),
    Step("movie", ("id", "title", "year", "imdb_id", "tmdb_id", "overview", "tagline"), ("id",), ":Movie:Item"),
    Step("item", ("id", "title", "text"), ("id",), ":Item"),
    Step("person", ("id", "name"), ("id",), ":Person"),
    Step("rated", ("user", "item", "rating", "weight", "ts"), ("user", "item"), "RATED"),
    Step("directed", ("person", "item"), ("person", "item"), "DIRECTED"),
    Step("acted_in", ("person", "item", "order"), ("person", "item"), "ACTED_IN"),
    Step("in_genre", ("item", "name"), ("item", "name"), "IN_GENRE"),
    Step("from_country", ("item", "name"), ("item", "name"), "FROM_COUNTRY"),
    Step("has_keyword", ("item", "name"), ("item", "name"), "HAS_KEYWORD"),
    Step("produced_by", ("item", "name"), ("item", "name"), "PRODUCED_BY"),
    Step("has_attribute", ("item", "kind", "name"), ("item", "kind", "name"), "HAS_ATTRIBUTE"),
    Step("tagged", ("user", "item", "tag", "ts"), ("user", "item", "tag"), "TAGGED"),
    Step("has_tag", ("item", "name", "count"), ("item", "name"), "HAS_TAG"),
    Step("entity", ("id", "name", "label"), ("id",), ":Entity"),
    Step("entity_link", ("kind", "key", "id", "label"), ("kind", "key"), ":Entity (linked)"),
    Step("mentions", ("item", "entity", "count"), ("item", "entity"), "MENTIONS"),
)
STEP_BY_NAME = {s.name: s for s in STEPS}
ENTITY_STEPS = ("entity", "entity_link", "mentions")


@dataclass
class Plan:
    """Rows to write per step (keyed, so a later row with the same key replaces an earlier one)."""

    rows: dict[str, dict[tuple, dict[str, Any]]] = field(default_factory=lambda: {s.name: {} for s in STEPS})
    rows_read: dict[str, int] = field(default_factory=dict)  # data rows read per source file
    skipped: Counter[str] = field(default_factory=Counter)  # rows left out on purpose, by documented rule
    texts: dict[int, list[str]] = field(default_factory=dict)  # item id -> texts for entity extraction
    entity_links: list[tuple[int, str, str, int]] = field(default_factory=list)  # given (item, name, label, count)
    notes: dict[str, Any] = field(default_factory=dict)

    def add(self, step: str, **row: Any) -> None:
        spec = STEP_BY_NAME[step]
        if set(row) != set(spec.fields):
            raise TypeError(f"step {step} expects fields {spec.fields}, got {sorted(row)}")
        self.rows[step][tuple(row[k] for k in spec.key)] = row

    def get(self, step: str, *key: Any) -> dict[str, Any] | None:
        return self.rows[step].get(tuple(key))

    def count(self, step: str) -> int:
        return len(self.rows[step])

    def add_text(self, item: int, text: str | None) -> None:
        if text and text.strip():
            self.texts.setdefault(item, []).append(text.strip())

    def items(self) -> set[int]:
        return {r["id"] for r in self.rows["movie"].values()} | {r["id"] for r in self.rows["item"].values()}
