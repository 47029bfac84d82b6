"""`kgrec neo4j …`, `kgrec cypher …` and `kgrec graph …`: the server, raw Cypher and the schema."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kgrec.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    neo = sub.add_parser("neo4j", help="install, start, stop or inspect the local Neo4j server")
    neo_sub = neo.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = neo_sub.add_parser("install", help="fetch the Neo4j server and Browser jars from Maven Central")
    p.set_defaults(handler=neo4j_install)
    p = neo_sub.add_parser("start", help="start the local server (idempotent); returns when Bolt answers")
    p.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for Bolt (default 180)")
    p.set_defaults(handler=neo4j_start)
    p = neo_sub.add_parser("stop", help="stop the local server (graceful, then forced)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds before the server is killed (default 30)")
    p.set_defaults(handler=neo4j_stop)
    p = neo_sub.add_parser("status", help="is the local server running, and where")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=neo4j_status)

    p = sub.add_parser("cypher", help="run one parameterised Cypher statement and print the rows")
    p.add_argument("query", help="the Cypher statement")
    p.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE",
                   help="a parameter; VALUE is parsed as JSON when valid JSON, else taken as a string")
    p.add_argument("--json", action="store_true", help="print a JSON list of objects")
    p.add_argument("--write", action="store_true", help="run in a write transaction (default: read)")
    p.set_defaults(handler=run_cypher)

    graph = sub.add_parser("graph", help="the graph's schema")
    graph_sub = graph.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = graph_sub.add_parser("init", help="create the constraints and indexes (idempotent)")
    p.set_defaults(handler=graph_init)


def _server():
    from kgrec.graph.embedded import LocalServer

    settings = Settings.from_env()
    return settings, LocalServer.from_settings(settings)


def _require_local(settings: Settings, action: str) -> None:
    from kgrec.cli import CommandError

    if not settings.uses_local_server:
        raise CommandError(f"NEO4J_URI is set ({settings.neo4j_uri}): kgrec uses that server and does not "
                           f"{action} a local one. Unset NEO4J_URI to use the embedded server.")


def neo4j_install(args: argparse.Namespace) -> int:
    settings, server = _server()
    print(f"fetching the Neo4j jars into {server.lib} (mvn) …", file=sys.stderr)
    server.install(quiet=True)
    print(f"Neo4j jars ready in {server.lib}")
    return 0


def neo4j_start(args: argparse.Namespace) -> int:
    settings, server = _server()
    _require_local(settings, "start")
    was_running = server.pid() is not None
    status = server.start(timeout=args.timeout)
    verb = "already running" if was_running else "started"
    print(f"Neo4j {verb} (pid {status['pid']}): Bolt {status['bolt_uri']}, Browser {status['browser_url']}")
    print(f"  log in as user 'neo4j' with the password in {status['password_file']}")
    return 0


def neo4j_stop(args: argparse.Namespace) -> int:
    settings, server = _server()
    _require_local(settings, "stop")
    print("Neo4j stopped" if server.stop(timeout=args.timeout) else "Neo4j was not running")
    return 0


def neo4j_status(args: argparse.Namespace) -> int:
    settings, server = _server()
    if settings.uses_local_server:
        status = server.status()
    else:
        status = {"running": _external_reachable(settings), "bolt_uri": settings.neo4j_uri,
                  "browser_url": None, "pid": None, "external": True}
    if args.json:
        print(json.dumps(status))
    else:
        state = "running" if status["running"] else "not running"
        print(f"Neo4j {state}: Bolt {status['bolt_uri']}" +
              (f", Browser {status['browser_url']}, pid {status['pid']}" if status.get("browser_url") else ""))
    return 0


def _external_reachable(settings: Settings) -> bool:
    from kgrec.graph.connection import Graph, GraphUnavailable

    try:
        Graph.connect(settings).close()
        return True
    except GraphUnavailable:
        return False


def parse_param(text: str) -> tuple[str, Any]:
    """``name=value`` with value parsed as JSON when it is valid JSON, else kept as a string."""
    from kgrec.cli import CommandError

    name, sep, raw = text.partition("=")
    if not sep or not name.isidentifier():
        raise CommandError(f"--param expects NAME=VALUE with NAME a parameter name, got {text!r}")
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw


def run_cypher(args: argparse.Namespace) -> int:
    from neo4j.exceptions import ClientError

    from kgrec.cli import CommandError
    from kgrec.graph.connection import Graph

    params = dict(parse_param(p) for p in args.param)
    with Graph.connect(Settings.from_env()) as graph:
        try:
            rows = graph.run_text(args.query, params, write=args.write)
        except ClientError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None
    if args.json:
        print(json.dumps(rows, default=str))
    else:
        print(format_table(rows))
    return 0


def format_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no rows)"
    columns = list(rows[0])
    cells = [[json.dumps(r.get(c), default=str) if not isinstance(r.get(c), str) else r[c] for c in columns]
             for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = " | ".join(c.ljust(w) for c, w in zip(columns, widths))
    out = [line, "-+-".join("-" * w for w in widths)]
    out += [" | ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def graph_init(args: argparse.Namespace) -> int:
    from kgrec.graph.connection import Graph
    from kgrec.graph.schema import apply_schema, describe_schema

    with Graph.connect(Settings.from_env()) as graph:
        count = apply_schema(graph)
        schema = describe_schema(graph)
    print(f"schema applied ({count} statements): {len(schema['constraints'])} constraints, "
          f"{len(schema['indexes'])} indexes")
    return 0
