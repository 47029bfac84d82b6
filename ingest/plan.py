"""What one ingest run intends to write: rows per write step, de-duplicated by each step's key.

A step is one Cypher write file (``cypher/ingest/<name>.cypher``, ``UNWIND $rows … MERGE``) plus a
read-back file (``cypher/ingest/existing_<name>.cypher``) that returns the rows already in the graph
in the same shape, so a re-run sends only new or changed rows. Labels and relationship types come from
the catalogue schema: the item's labels, the interaction type, and one pair of templates per attribute
(``link_in``/``link_out``), rendered with the schema's identifiers.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from kgrec.catalogue.schema import Attribute, Catalogue
from kgrec.ingest import names


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


#: attribute links of every kind are written at this point of STEPS (after items, before tags)
LINK = "link"
# In write order: nodes before the relationships that MATCH them; entities last (their patterns
# come from the names already in the graph). The item step gains the catalogue's item properties.
STEPS: tuple[Step, ...] = (
    Step("user", ("id",), ("id",), ":User"),
    Step("item", ("id", "title", "text"), ("id",), ":Item"),
    Step("rated", ("user", "item", "rating", "event", "weight", "ts"), ("user", "item"), "interactions"),
    Step(LINK, ("attribute", "item", "key", "name", "order"), ("attribute", "item", "key"), "attribute links"),
    Step("tagged", ("user", "item", "tag", "ts"), ("user", "item", "tag"), "TAGGED"),
    Step("has_tag", ("item", "name", "count"), ("item", "name"), "HAS_TAG"),
    Step("social", ("user", "other", "kind"), ("user", "other", "kind"), "FOLLOWS/FRIEND"),
    Step("entity", ("id", "name", "label"), ("id",), ":Entity"),
    Step("entity_link", ("kind", "key", "id", "label"), ("kind", "key"), ":Entity (linked)"),
    Step("mentions", ("item", "entity", "count"), ("item", "entity"), "MENTIONS"),
)
STEP_BY_NAME = {s.name: s for s in STEPS}
ENTITY_STEPS = ("entity", "entity_link", "mentions")


def steps_for(catalogue: Catalogue) -> tuple[Step, ...]:
    """STEPS with the item step's fields extended by the catalogue's item properties."""
    extra = tuple(p for p in catalogue.item_properties if p not in ("id", "title", "text"))
    return tuple(Step(s.name, s.fields + extra, s.key, s.what) if s.name == "item" else s for s in STEPS)


def node_key(attribute: Attribute, value: str) -> tuple[str, str] | None:
    """(key, display name) of an attribute node from a cell value; None when nothing is left of it."""
    display = names.clean(value)
    if attribute.fold_case:
        display = names.tag_name(display)
    key = names.slug(display) if attribute.key == "id" else display
    return (key, display) if key else None


@dataclass
class Plan:
    """Rows to write per step (keyed, so a later row with the same key replaces an earlier one)."""

    catalogue: Catalogue
    rows: dict[str, dict[tuple, dict[str, Any]]] = field(default_factory=lambda: {s.name: {} for s in STEPS})
    rows_read: dict[str, int] = field(default_factory=dict)  # data rows read per source file
    skipped: Counter[str] = field(default_factory=Counter)  # rows left out on purpose, by documented rule
    texts: dict[int, list[str]] = field(default_factory=dict)  # item id -> texts for entity extraction
    #: item id -> [(a free-text tag as written, distinct users behind it)]: read for entities only where
    #: enough people wrote it (ingest/entities.py extraction_texts)
    tag_texts: dict[int, list[tuple[str, int]]] = field(default_factory=dict)
    entity_links: list[tuple[int, str, str, int]] = field(default_factory=list)  # given (item, name, label, count)
    notes: dict[str, Any] = field(default_factory=dict)

    #: (label, key) -> display name: the first source that names a node gives its name
    node_names: dict[tuple[str, str], str] = field(default_factory=dict)

    @cached_property
    def steps(self) -> tuple[Step, ...]:
        return steps_for(self.catalogue)

    @cached_property
    def _fields(self) -> dict[str, tuple[Step, frozenset[str]]]:
        """Each step and its field set, looked up once (``add`` runs for every row of a source)."""
        return {s.name: (s, frozenset(s.fields)) for s in self.steps}

    def add(self, step: str, **row: Any) -> None:
        spec, fields = self._fields[step]
        if row.keys() != fields:
            raise TypeError(f"step {step} expects fields {spec.fields}, got {sorted(row)}")
        self.rows[step][tuple(row[k] for k in spec.key)] = row

    def get(self, step: str, *key: Any) -> dict[str, Any] | None:
        return self.rows[step].get(tuple(key))

    def count(self, step: str) -> int:
        return len(self.rows[step])

    def add_text(self, item: int, text: str | None) -> None:
        if text and text.strip():
            self.texts.setdefault(item, []).append(text.strip())

    def add_tag_text(self, item: int, text: str, users: int) -> None:
        if text and text.strip():
            self.tag_texts.setdefault(item, []).append((text.strip(), users))

    def items(self) -> set[int]:
        return {r["id"] for r in self.rows["item"].values()}

    def link(self, item: int, attribute: str, value: str, order: int | None = None, replace: bool = True,
             key: str | None = None) -> str | None:
        """Link ``item`` to the node ``value`` names for ``attribute`` (a schema attribute's name); returns
        the node's key (``key`` overrides the one made from ``value``). ``replace=False`` keeps a link
        already planned (its ``order`` stays)."""
        spec = self.catalogue.by_name[attribute]
        found = node_key(spec, value)
        if found is None:
            return None
        key, display = (key or found[0]), found[1]
        name = self.node_names.setdefault((spec.label, key), display)
        if replace or self.get(LINK, attribute, item, key) is None:
            self.add(LINK, attribute=attribute, item=item, key=key, name=name,
                     order=order if spec.ordered else None)
        return key

    def linked(self, attribute: str) -> set[int]:
        """Items with at least one planned link of ``attribute``."""
        return {r["item"] for r in self.rows[LINK].values() if r["attribute"] == attribute}
