"""``kgrec ingest csv``: anyone's catalogue as CSV files (UTF-8, header row, comma-separated), read
through a catalogue schema (``--catalogue movies|products|music|FILE.toml``; see catalogues/schemas/).

* items: ``id`` (integer), ``title``, optional ``text`` (free text for entity extraction), the schema's
  item properties (e.g. ``year``, ``price``), and its attribute columns (``directors``, ``brand``, …: the
  schema says which node label, key and relationship each becomes). Every other column becomes
  ``(:Item)-[:HAS_ATTRIBUTE]->(:Attribute {id: "<column>:<value>", name})``. A cell may hold several
  values separated by ``|`` (an ordered attribute keeps their positions).
* interactions: ``user`` (integer), ``item`` (integer, in the items file or already in the graph), and
  either ``rating`` (on the schema's scale) or ``event`` (one of the schema's kinds) with an optional
  ``weight`` or ``count``; a row with only a weight/count is the schema's default implicit kind (plays);
  optional ``timestamp`` (Unix seconds or ISO 8601). Several rows of one user and item combine as the
  signal model says (kgrec.catalogue.signals.combine).
* social: ``user``, ``other``, optional ``kind`` (``follows``, the default, or ``friend``).
* links: ``item``, ``entity`` (a name), ``label`` (e.g. PERSON, ORG, GPE), optional ``count``: an
  item-entity link you already have; linked to an existing node of the same name like spaCy's.
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from kgrec.catalogue import signals
from kgrec.catalogue.schema import SOCIAL_KINDS, Catalogue, load
from kgrec.graph.connection import Graph
from kgrec.ingest import names
from kgrec.ingest.plan import Plan
from kgrec.ingest.readers import RowError, Table, parse_rows, require, split_list, to_float, to_int
from kgrec.ingest.rejects import Rejects

ITEM_ID, TITLE, TEXT = "id", "title", "text"


def _id(value: str, field: str) -> int:
    try:
        return to_int(value, field)
    except RowError:
        raise RowError(f"bad id: {field}={value!r} is not an integer (kgrec ids are integers)") from None


def _timestamp(value: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RowError(f"bad timestamp: {value!r} is neither Unix seconds nor ISO 8601") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp())


class CsvSource:
    def __init__(self, graph: Graph, rejects: Rejects, list_sep: str = "|", catalogue: Catalogue | None = None):
        self.graph = graph
        self.rejects = rejects
        self.sep = list_sep
        self.catalogue = catalogue or load("movies")
        self.plan = Plan(self.catalogue)

    def table(self, path: Path, columns: tuple[str, ...]) -> Table:
        return Table(path, path.name, columns=columns)

    def items(self, path: Path) -> None:
        table = self.table(path, (ITEM_ID, TITLE))
        properties = self.catalogue.item_properties

        def row(r: dict[str, str]) -> None:
            item = _id(r[ITEM_ID], ITEM_ID)
            title = names.clean(require(r, TITLE))
            text = names.clean(r.get(TEXT) or "") or None
            if self.plan.get("item", item) is not None:
                raise RowError(f"duplicate item id: {item} appears twice")
            props = {p: _property(r.get(p)) for p in properties}
            self.plan.add("item", id=item, title=title, text=text, **props)
            self.plan.add_text(item, text)
            for f in self.catalogue.text_fields:
                if f != TEXT and isinstance(props.get(f), str):
                    self.plan.add_text(item, props[f])
            for column, cell in r.items():
                if column is None or column.strip().lower() in (ITEM_ID, TITLE, TEXT, *properties) \
                        or not (cell or "").strip():
                    continue
                self.attribute(item, column.strip(), split_list(cell, self.sep))

        for _ in parse_rows(table, self.rejects, row, self.plan.rows_read):
            pass

    def attribute(self, item: int, column: str, values: list[str]) -> None:
        spec = self.catalogue.attribute_for_column(column)
        for order, value in enumerate(values, start=1):
            if spec is not None:
                self.plan.link(item, spec.name, value, order=order)
            else:  # a column the schema does not declare: a generic attribute
                self.plan.link(item, "attribute", value, key=f"{column}:{names.clean(value)}")

    def known_items(self) -> set[int]:
        rows = self.graph.read("ingest/item_ids")
        return set(rows[0]["ids"]) if rows else set()

    def interactions(self, path: Path) -> None:
        table = self.table(path, ("user", "item"))
        known = self.plan.items() | self.known_items()
        scale = self.catalogue.signals
        users = {key[0] for key in self.plan.rows["user"]}

        # a file repeats a few (rating, event, weight) cells millions of times: each is checked once
        @lru_cache(maxsize=1 << 16)
        def signal_of(rating: str, event: str, weight: str, count: str) -> signals.Signal:
            try:
                return signals.check(scale, to_float(rating, "rating") if rating.strip() else None,
                                     event.strip().lower() or None, _weight(weight, count))
            except signals.SignalError as exc:
                raise RowError(f"bad interaction: {exc}") from None

        def row(r: dict[str, str]) -> None:
            user = _id(r["user"], "user")
            item = _id(r["item"], "item")
            if item not in known:
                raise RowError(f"unknown item id: {item} is neither in the items file nor in the graph")
            signal = signal_of(r.get("rating") or "", r.get("event") or "", r.get("weight") or "", r.get("count") or "")
            ts = _timestamp(r.get("timestamp") or "")
            if user not in users:  # once per user: the plan keeps one row per key anyway
                users.add(user)
                self.plan.add("user", id=user)
            old = self.plan.get("rated", user, item)
            if old is None:  # the first row of this user and item: nothing to combine with
                self.plan.add("rated", user=user, item=item, rating=signal.rating, event=signal.event,
                              weight=signal.weight, ts=ts)
                return
            previous = signals.Signal(old["rating"], old["event"], old["weight"], old["ts"])
            merged = signals.combine(scale, previous, signals.Signal(signal.rating, signal.event, signal.weight, ts))
            self.plan.add("rated", user=user, item=item, **merged.as_row())

        for _ in parse_rows(table, self.rejects, row, self.plan.rows_read):
            pass

    def social(self, path: Path) -> None:
        table = self.table(path, ("user", "other"))

        def row(r: dict[str, str]) -> None:
            user, other = _id(r["user"], "user"), _id(r["other"], "other")
            kind = (r.get("kind") or "follows").strip().lower()
            if kind not in SOCIAL_KINDS:
                raise RowError(f"bad kind: {kind!r} (use {' or '.join(SOCIAL_KINDS)})")
            if user == other:
                raise RowError(f"a user cannot {kind} themselves ({user})")
            if kind == "friend" and user > other:  # a friendship is stored once, lower id first
                user, other = other, user
            self.plan.add("social", user=user, other=other, kind=kind)

        for _ in parse_rows(table, self.rejects, row, self.plan.rows_read):
            pass

    def links(self, path: Path) -> None:
        table = self.table(path, ("item", "entity", "label"))
        known = self.plan.items() | self.known_items()

        def row(r: dict[str, str]) -> None:
            item = _id(r["item"], "item")
            if item not in known:
                raise RowError(f"unknown item id: {item} is neither in the items file nor in the graph")
            name = names.clean(require(r, "entity"))
            label = require(r, "label").upper()
            count = to_int(r["count"], "count") if (r.get("count") or "").strip() else 1
            if count < 1:
                raise RowError(f"bad number: count={count} must be at least 1")
            self.plan.entity_links.append((item, name, label, count))

        for _ in parse_rows(table, self.rejects, row, self.plan.rows_read):
            pass


def _weight(weight: str, count: str) -> float | None:
    """An interaction's weight from its ``weight`` cell, else its ``count`` cell; None when both are empty."""
    field, raw = ("weight", weight.strip()) if weight.strip() else ("count", count.strip())
    return to_float(raw, field) if raw else None


def _property(cell: str | None) -> str | int | float | None:
    """An item property from its cell: a number when it reads as one (a year, a price), else the text."""
    text = names.clean(cell or "")
    if not text:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def build_csv_plan(graph: Graph, rejects: Rejects, *, items: Path | None = None, interactions: Path | None = None,
                   links: Path | None = None, social: Path | None = None, list_sep: str = "|",
                   catalogue: Catalogue | None = None) -> Plan:
    source = CsvSource(graph, rejects, list_sep, catalogue)
    if items:
        source.items(items)
    if interactions:
        source.interactions(interactions)
    if social:
        source.social(social)
    if links:
        source.links(links)
    source.plan.notes["sources"] = [str(p) for p in (items, interactions, social, links) if p]
    source.plan.notes["catalogue"] = source.catalogue.name
    return source.plan
