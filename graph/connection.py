"""The driver connection to whichever Neo4j is configured, and managed read/write transactions.

With ``NEO4J_URI`` set, kgrec talks to that server (Docker, Aura, a cluster) with ``NEO4J_USER`` /
``NEO4J_PASSWORD``; otherwise to the local server, whose password is read from its password file.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import neo4j
from neo4j.exceptions import AuthError, ServiceUnavailable

from kgrec.config import Settings
from kgrec.graph import cypher
from kgrec.graph.embedded import LocalServer


class GraphUnavailable(RuntimeError):
    """Neo4j cannot be reached (or refused our credentials); the message says what to do."""


def connection_params(settings: Settings) -> tuple[str, tuple[str, str]]:
    """(uri, auth) for the configured server."""
    if settings.neo4j_uri:
        if settings.neo4j_password is None:
            raise GraphUnavailable("NEO4J_URI is set but NEO4J_PASSWORD is not.")
        return settings.neo4j_uri, (settings.neo4j_user, settings.neo4j_password)
    server = LocalServer.from_settings(settings)
    if not server.password_file.exists():
        raise GraphUnavailable(f"the local Neo4j has not been started yet (no {server.password_file}): "
                               "run `kgrec neo4j start`, or set NEO4J_URI.")
    return server.bolt_uri, ("neo4j", server.password())


class Graph:
    """A driver plus the database to use. Queries are named ``cypher/`` files or, for the
    ``kgrec cypher`` command only, a statement typed by the user; values always go as parameters."""

    def __init__(self, driver: neo4j.Driver, database: str | None = None, max_retry_time: float = 30.0):
        self.driver = driver
        self.database = database
        self.max_retry_time = max_retry_time
        # one bookmark manager for every session of this Graph (the process's one, in the API): on a cluster
        # or Aura (neo4j:// URIs route reads to readers) a read waits for the writes this process made
        # before it, so a rating just posted is in the next recommendation's profile
        self.bookmarks = neo4j.GraphDatabase.bookmark_manager()

    @classmethod
    def connect(cls, settings: Settings | None = None, verify: bool = True, fail_fast: bool = False) -> "Graph":
        """Connect to the configured server. ``fail_fast`` (the API) gives up on an unreachable server
        within seconds instead of retrying for 30 s, so callers can answer 503 at once."""
        settings = settings or Settings.from_env()
        uri, auth = connection_params(settings)
        # notifications off: queries name relationship types a partial graph may not have yet
        driver = neo4j.GraphDatabase.driver(uri, auth=auth, connection_timeout=2.0 if fail_fast else 5.0,
                                            connection_acquisition_timeout=5.0 if fail_fast else 60.0,
                                            max_connection_pool_size=64,
                                            max_connection_lifetime=3600, notifications_min_severity="OFF")
        graph = cls(driver, settings.neo4j_database, max_retry_time=1.0 if fail_fast else 30.0)
        if verify:
            graph.verify()
        return graph

    def verify(self) -> None:
        try:
            self.driver.verify_connectivity()
        except AuthError as exc:
            raise GraphUnavailable(f"Neo4j refused the credentials: {exc.message}") from exc
        except (ServiceUnavailable, OSError) as exc:
            raise GraphUnavailable(f"Neo4j is not reachable: {exc}. Is it running? (`kgrec neo4j status`)") from exc

    def close(self) -> None:
        self.driver.close()

    def __enter__(self) -> "Graph":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def session(self, **kwargs: Any) -> neo4j.Session:
        kwargs.setdefault("max_transaction_retry_time", self.max_retry_time)
        kwargs.setdefault("bookmark_manager", self.bookmarks)
        return self.driver.session(database=self.database, **kwargs)

    # -- named queries -------------------------------------------------------------------------
    def read(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """Run ``cypher/<name>.cypher`` in a managed read transaction; rows as dicts."""
        return self.run_text(cypher.load(name), params, write=False)

    def read_plain(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """``read`` for queries that return only maps, lists and scalars (no nodes, relationships or
        paths): rows are taken as they are, without the driver's recursive conversion (``Record.data``),
        which costs milliseconds on large nested rows. Used on the serving hot path."""
        def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
            result = tx.run(cypher.load(name), params)
            keys = result.keys()
            return [dict(zip(keys, record.values())) for record in result]

        with self.session() as session:
            return session.execute_read(work)

    def write(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """Run ``cypher/<name>.cypher`` in a managed write transaction (retried on transient errors)."""
        return self.run_text(cypher.load(name), params, write=True)

    def write_once(self, name: str, **params: Any) -> bool:
        """Best effort, one attempt and no retry: for bookkeeping after a failure, when the database may be
        what failed (the managed retry would add its 30 s to every such write). True if it was written."""
        try:
            with self.session(max_transaction_retry_time=0) as session:
                session.execute_write(lambda tx: tx.run(cypher.load(name), params).consume())
            return True
        except Exception:  # noqa: BLE001 - bookkeeping must never turn into the caller's error
            return False

    def write_batches(self, name: str, rows: Iterable[dict[str, Any]], batch_size: int,
                      **params: Any) -> Iterator[int]:
        """UNWIND ``rows`` through ``cypher/<name>.cypher`` one batch per transaction; yields batch sizes."""
        query = cypher.load(name)
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= batch_size:
                self.run_text(query, {**params, "rows": batch}, write=True)
                yield len(batch)
                batch = []
        if batch:
            self.run_text(query, {**params, "rows": batch}, write=True)
            yield len(batch)

    def write_together(self, steps: Sequence[tuple[str, dict[str, Any]]]) -> list[list[dict[str, Any]]]:
        """Run several named queries in ONE managed write transaction (all or nothing, and readers see
        either none or all of it); returns each query's rows, in order."""
        queries = [(cypher.load(name), params) for name, params in steps]

        def work(tx: neo4j.ManagedTransaction) -> list[list[dict[str, Any]]]:
            return [[record.data() for record in tx.run(query, params)] for query, params in queries]

        with self.session() as session:
            return session.execute_write(work)

    def stream(self, name: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Stream the rows of a large read without holding them all (one transaction)."""
        with self.session(default_access_mode=neo4j.READ_ACCESS) as session:
            with session.begin_transaction() as tx:
                for record in tx.run(cypher.load(name), params):
                    yield record.data()

    # -- raw text (the `kgrec cypher` command, schema files) -----------------------------------
    def run_text(self, query: str, params: dict[str, Any] | None = None, write: bool = False) -> list[dict[str, Any]]:
        def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
            return [record.data() for record in tx.run(query, params or {})]

        with self.session() as session:
            return session.execute_write(work) if write else session.execute_read(work)

    def run_statements(self, statements: Sequence[str]) -> None:
        """Run schema statements one by one, each in its own auto-commit transaction (DDL needs that)."""
        with self.session() as session:
            for statement in statements:
                session.run(statement).consume()
