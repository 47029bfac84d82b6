"""`kgrec demo`: the main job, end to end: Neo4j, the movie graph, trained models, the API serving."""
from __future__ import annotations

import argparse
import json
import sys
import threading
import urllib.request

from kgrec.config import Settings
from kgrec.examples import KINDS as EXAMPLES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the main job: start Neo4j, ingest the demo data, train, serve the API")
    p.add_argument("--source", default=None, help="the data folder (default KGREC_DATA_DIR)")
    p.add_argument("--retrain", action="store_true", help="train a new version even if one is active")
    p.add_argument("--port", type=int, default=8000, help="API port on 127.0.0.1 (default 8000)")
    p.add_argument("--no-serve", action="store_true", help="stop after the example instead of serving")
    p.add_argument("--catalogue", choices=("movies", *EXAMPLES), default="movies",
                   help="movies (the MovieLens data folder) or a generated example catalogue: products (a shop: "
                        "views, carts, purchases, returns, follows) or music (plays with counts, skips, friends)")
    p.add_argument("--replace", action="store_true",
                   help="wipe a graph that holds another catalogue first (the graph keeps one catalogue)")
    p.set_defaults(handler=run_demo)


def step(text: str) -> None:
    print(f"==> {text}", file=sys.stderr, flush=True)


def run_demo(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kgrec.cli import CommandError
    from kgrec.graph import cypher
    from kgrec.graph.connection import Graph
    from kgrec.graph.embedded import LocalServer
    from kgrec.graph.schema import apply_schema

    settings = Settings.from_env()
    source = Path(args.source).expanduser() if args.source else settings.data_dir
    if args.catalogue == "movies" and not (source / "ml-latest-small" / "ratings.csv").exists():
        raise CommandError(f"no MovieLens data in {source}: set KGREC_DATA_DIR (or --source) to a folder laid out "
                           "like ../shared/data, or download the originals with "
                           "`kgrec data fetch movielens --dest DIR`.")
    if settings.uses_local_server:
        server = LocalServer.from_settings(settings)
        step("starting the local Neo4j")
        server.install()
        status = server.start()
    else:
        status = {"bolt_uri": settings.neo4j_uri, "browser_url": None}

    with Graph.connect(settings) as graph:
        held = graph.read("catalogue/read")
        if held and held[0]["name"] != args.catalogue or not held and args.catalogue != "movies" \
                and graph.read("catalogue/has_items"):
            if not args.replace:
                raise CommandError(f"the graph holds the {held[0]['name'] if held else 'movies'!r} catalogue; "
                                   f"rerun with --replace to wipe it and load {args.catalogue!r}")
            step("wiping the graph (--replace)")
            graph.run_statements([cypher.load("wipe")])
        step("applying the schema")
        apply_schema(graph)
        if args.catalogue == "movies":
            step(f"ingesting {source} (idempotent: a re-run writes only what changed)")
            _ingest(graph, settings, source)
        else:
            _ingest_example(graph, settings, args.catalogue)
        active = graph.read("models/active_version")
        if active and not args.retrain:
            step(f"model version {active[0]['id']} is active (use --retrain to train a new one)")
        else:
            step("training every model and publishing a version (several minutes on 2 cores)")
            from kgrec.ranking.training import train_and_publish

            train_and_publish(graph, settings)

    print()
    print(f"Neo4j:   Bolt {status['bolt_uri']}")
    if status.get("browser_url"):
        print(f"Browser: {status['browser_url']}  (user 'neo4j', password in {status['password_file']}; "
              "`kgrec browse` shows the saved queries and style)")
    return _serve(settings, args.port, serve=not args.no_serve)


def _ingest(graph, settings: Settings, source) -> None:
    import time

    from kgrec.ingest.movielens import build_plan
    from kgrec.ingest.rejects import Rejects
    from kgrec.ingest.run import format_report, ingest_plan

    with Rejects(settings.rejects_dir / f"demo-{time.strftime('%Y%m%d-%H%M%S')}.csv") as rejects:
        report = ingest_plan(graph, build_plan(source, rejects), settings, rejects)
    print(format_report(report), file=sys.stderr)


def _ingest_example(graph, settings: Settings, kind: str) -> None:
    import time

    from kgrec.catalogue.schema import load
    from kgrec.examples import generate
    from kgrec.ingest.csv_source import build_csv_plan
    from kgrec.ingest.rejects import Rejects
    from kgrec.ingest.run import format_report, ingest_plan

    folder = settings.home / "examples" / kind
    step(f"generating the {kind} example catalogue into {folder} (kgrec.examples: planted structure)")
    files = generate(kind, folder)
    step(f"ingesting it with the {kind} schema (kgrec ingest csv --catalogue {kind})")
    with Rejects(settings.rejects_dir / f"demo-{kind}-{time.strftime('%Y%m%d-%H%M%S')}.csv") as rejects:
        report = ingest_plan(graph, build_csv_plan(graph, rejects, catalogue=load(kind), **files), settings, rejects)
    print(format_report(report), file=sys.stderr)


def _serve(settings: Settings, port: int, serve: bool) -> int:
    import waitress

    from kgrec.api.app import create_app

    server = waitress.create_server(create_app(settings), host="127.0.0.1", port=port, threads=16, ident="kgrec")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/users/1/recommendations?k=5"
    with urllib.request.urlopen(url, timeout=60) as response:
        doc = json.loads(response.read())
    print(f"API:     http://127.0.0.1:{port}/  (docs http://127.0.0.1:{port}/docs)")
    print(f"\n$ curl '{url}'")
    for rank, item in enumerate(doc["items"], 1):
        print(f"{rank}. {item['title']} (score {item['score']:.3f})")
        for e in item["explanations"]:
            hops = " -> ".join(f"({n['name']})" if n["labels"][0] == "User" else f"({n['labels'][0]} {n['name']})"
                               for n in e["path"]["nodes"])
            print(f"     {e['text']}\n       path: {hops}")
    if not serve:
        server.close()
        return 0
    print("\nServing the API; Ctrl-C stops it (Neo4j keeps running: `kgrec neo4j stop`).", flush=True)
    try:
        thread.join()
    except KeyboardInterrupt:
        server.close()
    return 0
