"""``kgrec ingest … --bulk``: the initial load of an empty local database through Neo4j's offline importer
(``neo4j-admin database import full``) instead of batched ``UNWIND … MERGE`` transactions.

The plan's base steps (users, items, interactions, attribute links, tags, social edges) become the CSV
files the importer reads; the server is stopped, the database is replaced by the import, the server
starts again, and the ordinary ingest carries on without those steps: catalogue, constraints and
indexes, entities, CO_LIKED, the graph revision and the outcome for /metrics (ingest/run.py). The
files hold exactly what the UNWIND path writes, by the same rules:

* a relationship whose end node the UNWIND write would not ``MATCH`` (not created by an earlier step)
  is left out, as that write leaves it out; social edges create their users, as their ``MERGE`` does;
* attribute nodes are one per (label, key) whichever attribute names them; the last row's name wins;
* a ``None`` value is no property (``SET x.p = null``); a CSV column has one type, so rows whose values
  differ in type (a price 12 and 12.5) go to separate files, and each value keeps its Python type
  (int -> long, float -> double, str -> string, bool -> boolean), as the driver would send it.

It needs the local server (``NEO4J_URI`` unset: the importer writes the store files) and an empty
database: the import replaces the database, so anything in it would be lost.
"""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from kgrec.config import Settings
from kgrec.graph.connection import Graph
from kgrec.graph.embedded import LocalServer, ServerError
from kgrec.ingest.plan import ENTITY_STEPS, LINK, Plan
from kgrec.ingest.writer import StepResult

#: the steps the import writes; the others (entities) go through the ordinary path afterwards
BULK_STEPS = ("user", "item", "rated", LINK, "tagged", "has_tag", "social")
_TYPES = {str: "string", bool: "boolean", int: "long", float: "double"}


class BulkError(RuntimeError):
    """A bulk load that cannot run here (external server, non-empty database); the message says why."""


def check_local(settings: Settings) -> None:
    """--bulk writes the database's store files with the admin tool: only kgrec's own server allows it."""
    if not settings.uses_local_server:
        raise BulkError(f"--bulk needs the local server: it stops it and writes the database files with "
                        f"neo4j-admin, which a server at NEO4J_URI ({settings.neo4j_uri}) does not allow. "
                        "Unset NEO4J_URI, or ingest without --bulk (batched transactions), or run "
                        "`neo4j-admin database import full` on that server's machine.")


def check_empty(graph: Graph) -> None:
    """The import replaces the whole database: refuse one that holds anything."""
    rows = graph.run_text("MATCH (n) RETURN count(n) AS n")
    if rows and rows[0]["n"]:
        raise BulkError(f"--bulk loads an empty database only, and this one holds {rows[0]['n']:,} nodes (the "
                        "import would replace them): ingest without --bulk, which adds to the graph, or wipe "
                        "it first (`kgrec neo4j stop`, remove the data folder, `kgrec neo4j start`).")


@dataclass
class ImportFiles:
    """What the importer reads: (labels, header, data) per node file, (type, header, data) per relationship
    file, and per step the rows planned and the rows in the files."""

    folder: Path
    nodes: list[tuple[tuple[str, ...], Path, Path]] = field(default_factory=list)
    relationships: list[tuple[str, Path, Path]] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    multiline: bool = False


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


#: a CSV cell per Python type (the importer's quoting: RFC 4180, "" inside quotes); None is an empty,
#: unquoted cell, which the importer reads as no value (an empty string is "" and stays one)
_CELL = {type(None): lambda v: "", str: _quote, bool: lambda v: "true" if v else "false", int: repr, float: repr}


class _Table:
    """One node label set or relationship type: rows grouped by their values' types (a column has one type),
    one header and one data file per group, written as rows come."""

    def __init__(self, folder: Path, name: str, ids: tuple[str, ...], fields: tuple[str, ...]):
        self.folder, self.name, self.ids, self.fields = folder, name, ids, fields
        self.groups: list[tuple[dict[int, type], TextIO, Path]] = []
        self.group_of: dict[tuple[type, ...], int] = {}
        self.rows = 0
        self.multiline = False

    def add(self, ids: tuple[str, ...], values: tuple[Any, ...]) -> None:
        sig = tuple(map(type, values))
        g = self.group_of.get(sig)
        if g is None:
            g = self.group_of[sig] = self._group(sig)
        cell = _CELL  # every value's type was checked by _group
        line = ",".join([*(cell[type(i)](i) for i in ids), *(cell[type(v)](v) for v in values)])
        if "\n" in line or "\r" in line:
            self.multiline = True
        self.groups[g][1].write(line + "\n")
        self.rows += 1

    def _group(self, sig: tuple[type, ...]) -> int:
        """The first group whose typed columns agree with ``sig`` (None fits any), else a new one."""
        wanted = {n: t for n, t in enumerate(sig) if t is not type(None)}
        for g, (types, _, _) in enumerate(self.groups):
            if all(types.get(n, t) is t for n, t in wanted.items()):
                types.update(wanted)
                return g
        for n, t in wanted.items():
            if t not in _TYPES:
                raise BulkError(f"{self.name}.{self.fields[n]}: a {t.__name__} value cannot be bulk loaded")
        path = self.folder / f"{self.name}-{len(self.groups)}.csv"
        self.groups.append((dict(wanted), path.open("w", encoding="utf-8", newline=""), path))
        return len(self.groups) - 1

    def close(self) -> list[tuple[Path, Path]]:
        """(header, data) per group; a column no row of the group fills is typed string (it stays empty)."""
        files = []
        for types, handle, data in self.groups:
            handle.close()
            header = data.with_suffix(".header.csv")
            columns = [*self.ids, *(f"{f}:{_TYPES[types.get(n, str)]}" for n, f in enumerate(self.fields))]
            header.write_text(",".join(columns) + "\n", encoding="utf-8")
            files.append((header, data))
        return files


class _Writer:
    """The import files of one plan, step by step in the UNWIND path's order (what each step's MATCH finds
    is what the steps before it created)."""

    def __init__(self, plan: Plan, folder: Path):
        self.plan, self.cat, self.out = plan, plan.catalogue, ImportFiles(folder)
        self.node_tables: dict[str, tuple[tuple[str, ...], _Table]] = {}
        self.rel_tables: dict[tuple[str, str, str], _Table] = {}
        self.users: set[Any] = set()
        self.items: set[Any] = set()
        #: attribute and tag nodes, (label, key) -> properties: one node whatever names it, last name wins
        self.attribute_nodes: dict[tuple[str, str], dict[str, Any]] = {}

    def _nodes(self, space: str, labels: tuple[str, ...], fields: tuple[str, ...]) -> _Table:
        if space not in self.node_tables:
            self.node_tables[space] = (labels, _Table(self.out.folder, f"nodes-{space}", (f":ID({space})",), fields))
        return self.node_tables[space][1]

    def _rels(self, rel: str, start: str, end: str, fields: tuple[str, ...]) -> _Table:
        key = (rel, start, end)
        if key not in self.rel_tables:
            self.rel_tables[key] = _Table(self.out.folder, f"rels-{rel}-{start}-{end}",
                                          (f":START_ID({start})", f":END_ID({end})"), fields)
        return self.rel_tables[key]

    def _count(self, step: str, started: float, written: int) -> None:
        spec = next(s for s in self.plan.steps if s.name == step)
        self.out.steps.append(StepResult(step, spec.what, self.plan.count(step), written, time.perf_counter() - started))

    def write(self) -> ImportFiles:
        for step in BULK_STEPS:
            rows = list(self.plan.rows[step].values())
            if rows:
                started = time.perf_counter()
                self._count(step, started, getattr(self, f"_step_{step}")(rows))
        self._attribute_files()
        for space, (labels, table) in self.node_tables.items():
            self.out.nodes += [(labels, h, d) for h, d in table.close()]
            self.out.multiline |= table.multiline
        for (rel, _, _), table in self.rel_tables.items():
            self.out.relationships += [(rel, h, d) for h, d in table.close()]
            self.out.multiline |= table.multiline
        return self.out

    def _step_user(self, rows: list[dict]) -> int:
        table = self._nodes("User", ("User",), ("id",))
        for r in rows:
            if r["id"] not in self.users:
                self.users.add(r["id"])
                table.add((str(r["id"]),), (r["id"],))
        return len(rows)

    def _step_item(self, rows: list[dict]) -> int:
        fields = next(s for s in self.plan.steps if s.name == "item").fields
        table = self._nodes("Item", tuple(self.cat.labels_of_item()), fields)
        for r in rows:
            self.items.add(r["id"])
            table.add((str(r["id"]),), tuple(r[f] for f in fields))
        return len(rows)

    def _step_rated(self, rows: list[dict]) -> int:
        table = self._rels(self.cat.signals.relationship, "User", "Item", ("rating", "event", "weight", "ts"))
        users, items = self.users, self.items
        for r in rows:
            if r["user"] in users and r["item"] in items:
                table.add((str(r["user"]), str(r["item"])), (r["rating"], r["event"], r["weight"], r["ts"]))
        return table.rows

    def _step_link(self, rows: list[dict]) -> int:
        # MERGE: one relationship per type and pair of nodes, the last row's order wins
        links: dict[tuple[str, str, str], dict[tuple[str, str], Any]] = {}
        for attribute in self.cat.attributes:  # the UNWIND path's order: per attribute, rows as planned
            side = (attribute.label, "Item") if not attribute.outgoing else ("Item", attribute.label)
            mine = links.setdefault((attribute.relationship, *side), {})
            for r in rows:
                if r["attribute"] != attribute.name or r["item"] not in self.items:
                    continue
                node = self.attribute_nodes.setdefault((attribute.label, r["key"]), {})
                node[attribute.key] = r["key"]
                node["name"] = r["name"]
                item, other = str(r["item"]), r["key"]
                mine[(other, item) if not attribute.outgoing else (item, other)] = r["order"]
        for (rel, start, end), pairs in links.items():
            if pairs:
                table = self._rels(rel, start, end, ("order",))
                for ends, order in pairs.items():
                    table.add(ends, (order,))
        return sum(map(len, links.values()))

    def _step_tagged(self, rows: list[dict]) -> int:
        table = self._rels("TAGGED", "User", "Item", ("tag", "ts"))
        for r in rows:
            if r["user"] in self.users and r["item"] in self.items:
                table.add((str(r["user"]), str(r["item"])), (r["tag"], r["ts"]))
        return table.rows

    def _step_has_tag(self, rows: list[dict]) -> int:
        table = self._rels("HAS_TAG", "Item", "Tag", ("count",))
        for r in rows:
            if r["item"] in self.items:
                self.attribute_nodes.setdefault(("Tag", r["name"]), {"name": r["name"]})
                table.add((str(r["item"]), r["name"]), (r["count"],))
        return table.rows

    def _step_social(self, rows: list[dict]) -> int:
        kinds = {"follows": "FOLLOWS", "friend": "FRIEND"}
        for r in rows:
            for user in (r["user"], r["other"]):  # MERGE creates the users no earlier step did
                if user not in self.users:
                    self.users.add(user)
                    self._nodes("User", ("User",), ("id",)).add((str(user),), (user,))
            self._rels(kinds[r["kind"]], "User", "User", ()).add((str(r["user"]), str(r["other"])), ())
        return len(rows)

    def _attribute_files(self) -> None:
        by_label: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for (label, key), props in self.attribute_nodes.items():
            by_label.setdefault(label, []).append((key, props))
        for label, nodes in by_label.items():
            fields = tuple(dict.fromkeys(f for _, props in nodes for f in props))
            table = self._nodes(label, (label,), fields)
            for key, props in nodes:
                table.add((key,), tuple(props.get(f) for f in fields))


def write_import_files(plan: Plan, folder: Path) -> ImportFiles:
    """The CSV files (header and data apart) ``neo4j-admin database import full`` reads for ``plan``'s base
    steps, into ``folder`` (emptied first)."""
    if any(plan.rows[s] for s in ENTITY_STEPS):
        raise BulkError("entity rows are written after the import (they need the imported names)")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    bad = [c for c in ",=" if c in str(folder)]
    if bad:
        raise BulkError(f"the import folder {folder} holds {' '.join(bad)}, which the importer's arguments cannot "
                        "carry: choose a KGREC_HOME without them")
    return _Writer(plan, folder).write()


def bulk_load(settings: Settings, plan: Plan, *, keep_files: bool = False) -> tuple[list[StepResult], dict[str, float]]:
    """Import ``plan``'s base steps into the local server's (empty, checked by the caller) database: write
    the files, stop the server, import, start it again. Returns per-step results and phase timings; the
    importer's output is kept in ``<KGREC_HOME>/ingest/last-bulk-import.log``."""
    check_local(settings)
    server = LocalServer.from_settings(settings)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    folder = settings.home / "ingest" / f"bulk-{time.strftime('%Y%m%d-%H%M%S')}"
    files = write_import_files(plan, folder)
    timings["bulk files"] = time.perf_counter() - t
    t = time.perf_counter()
    server.stop()
    try:
        output = server.import_full(_args(files), database=settings.neo4j_database or "neo4j",
                                    report=folder / "import.report")
        # the importer's own account (stages, seconds, memory), kept after the files go
        (settings.home / "ingest" / "last-bulk-import.log").write_text(output, encoding="utf-8")
    finally:
        timings["bulk import"] = time.perf_counter() - t
        t = time.perf_counter()
        server.start()  # the previous database again if the import failed
        timings["restart"] = time.perf_counter() - t
    if not keep_files:
        shutil.rmtree(folder, ignore_errors=True)
    return files.steps, timings


def _args(files: ImportFiles) -> list[str]:
    args = [f"--nodes={':'.join(labels)}={header},{data}" for labels, header, data in files.nodes]
    args += [f"--relationships={rel}={header},{data}" for rel, header, data in files.relationships]
    if files.multiline:
        args.append("--multiline-fields=true")
    return args
