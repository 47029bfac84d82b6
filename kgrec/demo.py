"""`kgrec demo`: the main job, end to end on the local (or configured) Neo4j."""
from __future__ import annotations

import argparse
import sys

from kgrec.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the main job: start Neo4j, build the graph, train, serve")
    p.set_defaults(handler=run_demo)


def step(text: str) -> None:
    print(f"==> {text}", file=sys.stderr, flush=True)


def run_demo(args: argparse.Namespace) -> int:
    from kgrec.graph.connection import Graph
    from kgrec.graph.embedded import LocalServer
    from kgrec.graph.schema import apply_schema

    settings = Settings.from_env()
    if settings.uses_local_server:
        server = LocalServer.from_settings(settings)
        step("starting the local Neo4j")
        server.install()
        status = server.start()
    else:
        status = {"bolt_uri": settings.neo4j_uri, "browser_url": None}
    with Graph.connect(settings) as graph:
        step("applying the schema")
        apply_schema(graph)
    print(f"Neo4j is running: Bolt {status['bolt_uri']}")
    if status.get("browser_url"):
        print(f"Neo4j Browser: {status['browser_url']}  (connect to {status['bolt_uri']}, user 'neo4j', "
              f"password in {status['password_file']})")
    return 0
