"""``kgrec ingest csv``: anyone's catalogue as CSV files (UTF-8, header row, comma-separated).

* items: ``id`` (integer), ``title``, optional ``text`` (free text for entity extraction), and any
  other columns. Known columns map onto the movie model: ``genres`` -> Genre, ``directors`` ->
  Person DIRECTED, ``actors`` -> Person ACTED_IN (order = position), ``countries`` -> Country,
  ``keywords`` -> Keyword, ``studios`` -> Studio (singular names work too). Every other column
  becomes ``(:Item)-[:HAS_ATTRIBUTE]->(:Attribute {kind: column, name: value})``. A cell may hold
  several values separated by ``|``.
* interactions: ``user`` (integer), ``item`` (integer, in the items file or already in the graph),
  optional ``rating`` and/or ``weight`` (numbers; neither means weight 1), optional ``timestamp``
  (Unix seconds or ISO 8601).
* links: ``item``, ``entity`` (a name), ``label`` (e.g. PERSON, ORG, GPE), optional ``count``: an
  item-entity link you already have; linked to an existing node of the same name like spaCy's.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from kgrec.graph.connection import Graph
from kgrec.ingest import names
from kgrec.ingest.plan import Plan
from kgrec.ingest.readers import RowError, Table, parse_rows, require, split_list, to_float, to_int
from kgrec.ingest.rejects import Rejects

ITEM_ID, TITLE, TEXT = "id", "title", "text"
# known item columns (plural or singular) -> (step, how the value is stored)
KNOWN_COLUMNS = {
    "genres": "in_genre", "genre": "in_genre",
    "countries": "from_country", "country": "from_country",
    "keywords": "has_keyword", "keyword": "has_keyword",
    "studios": "produced_by", "studio": "produced_by",
    "directors": "directed", "director": "directed",
    "actors": "acted_in", "actor": "acted_in", "cast": "acted_in",
}


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
    def __init__(self, graph: Graph, rejects: Rejects, list_sep: str = "|"):
        self.graph = graph
        self.rejects = rejects
        self.sep = list_sep
        self.plan = Plan()

    def table(self, path: Path, columns: tuple[str, ...]) -> Table:
        return Table(path, path.name, columns=columns)

    def items(self, path: Path) -> None:
        table = self.table(path, (ITEM_ID, TITLE))

        def row(r: dict[str, str]) -> None:
            item = _id(r[ITEM_ID], ITEM_ID)
            title = names.clean(require(r, TITLE))
            text = names.clean(r.get(TEXT) or "") or None
            if self.plan.get("item", item) is not None:
                raise RowError(f"duplicate item id: {item} appears twice")
            self.plan.add("item", id=item, title=title, text=text)
            self.plan.add_text(item, text)
            for column, cell in r.items():
                if column in (ITEM_ID, TITLE, TEXT) or not cell.strip():
                    continue
                self.attribute(item, column.strip(), split_list(cell, self.sep))

        for _ in parse_rows(table, self.rejects, row, self.plan.rows_read):
            pass

    def attribute(self, item: int, column: str, values: list[str]) -> None:
        step = KNOWN_COLUMNS.get(column.lower())
        for order, value in enumerate(values, start=1):
            if step in ("directed", "acted_in"):
                pid = names.slug(value)
                if not pid:
                    continue
                if self.plan.get("person", pid) is None:
                    self.plan.add("person", id=pid, name=value)
                if step == "directed":
                    self.plan.add("directed", person=pid, item=item)
                else:
                    self.plan.add("acted_in", person=pid, item=item, order=order)
            elif step == "has_keyword":
                self.plan.add(step, item=item, name=names.tag_name(value))
            elif step is not None:
                self.plan.add(step, item=item, name=value)
            else:
                self.plan.add("has_attribute", item=item, kind=column, name=value)

    def known_items(self) -> set[int]:
        rows = self.graph.read("ingest/item_ids")
        return set(rows[0]["ids"]) if rows else set()

    def interactions(self, path: Path) -> None:
        table = self.table(path, ("user", "item"))
        known = self.plan.items() | self.known_items()

        def row(r: dict[str, str]) -> None:
            user = _id(r["user"], "user")
            item = _id(r["item"], "item")
            if item not in known:
                raise RowError(f"unknown item id: {item} is neither in the items file nor in the graph")
            rating = to_float(r["rating"], "rating") if (r.get("rating") or "").strip() else None
            weight = to_float(r["weight"], "weight") if (r.get("weight") or "").strip() else None
            if rating is None and weight is None:
                weight = 1.0
            ts = _timestamp(r.get("timestamp") or "")
            old = self.plan.get("rated", user, item)
            if old is not None and (old["ts"] or 0) > (ts or 0):
                return  # an older duplicate: the latest interaction wins
            self.plan.add("user", id=user)
            self.plan.add("rated", user=user, item=item, rating=rating, weight=weight, ts=ts)

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


def build_csv_plan(graph: Graph, rejects: Rejects, *, items: Path | None = None, interactions: Path | None = None,
                   links: Path | None = None, list_sep: str = "|") -> Plan:
    source = CsvSource(graph, rejects, list_sep)
    if items:
        source.items(items)
    if interactions:
        source.interactions(interactions)
    if links:
        source.links(links)
    source.plan.notes["sources"] = [str(p) for p in (items, interactions, links) if p]
    return source.plan
