"""`kgrec ingest …`, `kgrec data fetch …` and `kgrec browse`. Heavy imports stay inside handlers."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from kgrec.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    ing = sub.add_parser("ingest", help="load data into the knowledge graph (idempotent, batched)")
    ing_sub = ing.add_subparsers(dest="source", metavar="SOURCE", required=True)

    p = ing_sub.add_parser("movielens", help="a folder laid out like ../shared/data (ml-latest-small, "
                                             "movie-cast, movie-text, hetrec2011-movielens-2k)")
    p.add_argument("--source", type=Path, default=None, help="the folder (default KGREC_DATA_DIR)")
    _common(p)
    p.set_defaults(handler=ingest_movielens)

    p = ing_sub.add_parser("csv", help="your own catalogue: items, interactions and item-entity links as CSV")
    p.add_argument("--items", type=Path, help="CSV: id,title[,text][,any attribute columns]")
    p.add_argument("--interactions", type=Path,
                   help="CSV: user,item and rating or event[,weight|count][,timestamp]")
    p.add_argument("--social", type=Path, help="CSV: user,other[,kind] (follows or friend)")
    p.add_argument("--links", type=Path, help="CSV: item,entity,label[,count]")
    p.add_argument("--catalogue", default=None,
                   help="the catalogue schema: movies, products, music or a TOML file (default: the graph's own, "
                        "movies for a new graph)")
    p.add_argument("--list-sep", default="|", help="separator of several values in one attribute cell (default |)")
    _common(p)
    p.set_defaults(handler=ingest_csv)

    data = sub.add_parser("data", help="public datasets")
    data_sub = data.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = data_sub.add_parser("fetch", help="download a dataset's public originals, checked by sha256")
    p.add_argument("dataset", choices=["movielens"])
    p.add_argument("--dest", type=Path, required=True, help="folder to create the source layout in")
    p.add_argument("--base-url", default=None, help="a mirror: files at <base>/<host>/<path> "
                                                    "(default KGREC_FETCH_BASE_URL, else the publishers)")
    p.set_defaults(handler=data_fetch)
    p = data_sub.add_parser("generate", help="a generated example catalogue of any size (kgrec.examples: planted "
                                             "structure), as the CSV files `kgrec ingest csv` reads")
    p.add_argument("kind", choices=["products", "music"])
    p.add_argument("--dest", type=Path, required=True, help="folder for items.csv, interactions.csv, social.csv")
    p.add_argument("--items", type=int, default=400)
    p.add_argument("--users", type=int, default=300)
    p.add_argument("--interactions", type=int, default=None,
                   help="about this many interaction rows (default: 30 per user plus word of mouth, as the demo)")
    p.add_argument("--social", type=int, default=None, help="about this many social edges (default 2.5 per user)")
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(handler=data_generate)

    p = sub.add_parser("browse", help="how to explore the graph in Neo4j Browser (URL, login, style, queries)")
    p.set_defaults(handler=browse)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--batch-size", type=int, default=None, help="rows per transaction (default KGREC_BATCH_SIZE)")
    p.add_argument("--rejects", type=Path, default=None,
                   help="rejects CSV (default <KGREC_HOME>/rejects/ingest-<time>.csv)")
    p.add_argument("--no-entities", action="store_true", help="skip spaCy entity extraction")
    p.add_argument("--no-co-liked", action="store_true", help="skip the CO_LIKED rebuild")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--bulk", action="store_true",
                   help="initial load of an EMPTY local database with neo4j-admin's offline importer (stops and "
                        "restarts the local server; faster than batched transactions from ~250k interactions)")


def _rejects_path(args: argparse.Namespace, settings: Settings) -> Path:
    return args.rejects or settings.rejects_dir / f"ingest-{time.strftime('%Y%m%d-%H%M%S')}.csv"


def _run(args: argparse.Namespace, settings: Settings, build) -> int:
    """Parse with ``build(rejects)`` -> plan, write it, print the summary; the shared tail of both sources."""
    from kgrec.catalogue.schema import SchemaError
    from kgrec.cli import CommandError
    from kgrec.graph.connection import Graph
    from kgrec.ingest.bulk import BulkError, bulk_load, check_empty, check_local
    from kgrec.ingest.entities import PipelineError
    from kgrec.ingest.readers import SourceError
    from kgrec.ingest.rejects import Rejects
    from kgrec.ingest.run import format_report, ingest_plan, save_report

    if args.batch_size is not None and args.batch_size < 1:
        raise CommandError("--batch-size must be at least 1")
    bulk = args.bulk
    with Rejects(_rejects_path(args, settings)) as rejects:
        start = time.perf_counter()
        with Graph.connect(settings) as graph:
            try:
                if bulk:
                    check_local(settings)
                    check_empty(graph)
                plan = build(rejects, graph)
            except (SourceError, SchemaError, BulkError) as exc:
                raise CommandError(str(exc), 2) from None
        timings = {"parse": time.perf_counter() - start}
        # the import stops the server: the ingest's own connection is opened after it
        loaded = None
        if bulk:
            loaded, bulk_timings = bulk_load(settings, plan)
            timings.update(bulk_timings)
        with Graph.connect(settings) as graph:
            try:
                report = ingest_plan(graph, plan, settings, rejects, batch_size=args.batch_size,
                                     entities=not args.no_entities, co_liked=not args.no_co_liked,
                                     progress=not args.quiet, timings=timings, loaded=loaded)
            except PipelineError as exc:
                raise CommandError(f"{exc} (everything but the entities was written)", 2) from None
            except SchemaError as exc:  # another catalogue than the graph's: nothing was written
                raise CommandError(str(exc), 2) from None
        report.timings["total"] = time.perf_counter() - start
    print(format_report(report))
    print(f"report: {save_report(report, settings.home)}")
    return report.exit_code


def ingest_movielens(args: argparse.Namespace) -> int:
    from kgrec.cli import CommandError
    from kgrec.ingest.movielens import build_plan

    settings = Settings.from_env()
    source = (args.source or settings.data_dir).expanduser()
    if not source.is_dir():
        if args.source:
            raise CommandError(f"--source {source} is not a folder", 2)
        raise CommandError(f"the data folder {source} (KGREC_DATA_DIR) does not exist: pass --source DIR, set "
                           "KGREC_DATA_DIR, or download the originals with `kgrec data fetch movielens --dest DIR`", 2)
    return _run(args, settings, lambda rejects, graph: build_plan(source, rejects))


def ingest_csv(args: argparse.Namespace) -> int:
    from kgrec.cli import CommandError
    from kgrec.ingest.csv_source import build_csv_plan

    if not (args.items or args.interactions or args.links or args.social):
        raise CommandError("give at least one of --items, --interactions, --social, --links", 2)
    settings = Settings.from_env()

    def build(rejects, graph):
        from kgrec.catalogue.schema import load
        from kgrec.catalogue.store import active

        catalogue = load(args.catalogue) if args.catalogue else active(graph)
        return build_csv_plan(graph, rejects, items=args.items, interactions=args.interactions, links=args.links,
                              social=args.social, list_sep=args.list_sep, catalogue=catalogue)

    return _run(args, settings, build)


def data_fetch(args: argparse.Namespace) -> int:
    from kgrec.cli import CommandError
    from kgrec.ingest.fetch import FetchError, fetch_movielens

    settings = Settings.from_env()
    try:
        done = fetch_movielens(args.dest, base_url=args.base_url or settings.fetch_base_url)
    except FetchError as exc:
        raise CommandError(str(exc)) from None
    for line in done:
        print(line)
    print(f"ready: kgrec ingest movielens --source {args.dest}")
    return 0


def data_generate(args: argparse.Namespace) -> int:
    from kgrec.cli import CommandError
    from kgrec.examples import ExampleSize, generate

    try:
        size = ExampleSize.scaled(args.items, args.users, args.interactions, args.social, seed=args.seed)
    except ValueError as exc:
        raise CommandError(str(exc), 2) from None
    for name, path in generate(args.kind, args.dest, size).items():
        with path.open("rb") as f:
            rows = sum(1 for _ in f) - 1
        print(f"{name}: {rows:,} rows -> {path}")
    print(f"ready: kgrec ingest csv --catalogue {args.kind} --items {args.dest}/items.csv "
          f"--interactions {args.dest}/interactions.csv --social {args.dest}/social.csv")
    return 0


def browse(args: argparse.Namespace) -> int:
    from kgrec.ingest.browse import browse_text

    print(browse_text(Settings.from_env()))
    return 0
