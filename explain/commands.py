"""`kgrec recommend` and `kgrec explain`: recommendations with their paths, from the command line."""
from __future__ import annotations

import argparse
import json

from kgrec.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("recommend", help="top-k items for a user, each with explanation paths")
    p.add_argument("--user", type=int, required=True, help="user id")
    p.add_argument("--k", type=int, default=10, help="how many items (default 10)")
    p.add_argument("--paths", type=int, default=3, help="explanations per item (default 3)")
    p.add_argument("--diversity", type=float, default=0.0, help="0 = by score, 1 = most varied (default 0)")
    p.add_argument("--category", "--genre", dest="category",
                   help="only items in this category (the catalogue's category attribute, e.g. a genre)")
    p.add_argument("--json", action="store_true", help="print the JSON document")
    p.set_defaults(handler=recommend)
    p = sub.add_parser("explain", help="the explanation paths of one item for one user")
    p.add_argument("--user", type=int, required=True, help="user id")
    p.add_argument("--item", type=int, required=True, help="item id")
    p.add_argument("--paths", type=int, default=3, help="how many paths (default 3)")
    p.add_argument("--json", action="store_true", help="print the JSON document")
    p.set_defaults(handler=explain)


def _ask(method: str, *args: object, **kwargs: object) -> dict:
    """Call one RecommendationService method on a fresh connection; unknown ids and a missing model are
    user errors."""
    from kgrec.cli import CommandError
    from kgrec.serve.pipeline import BadFilter, NoModel, NotFound, RecommendationService
    from kgrec.graph.connection import Graph

    settings = Settings.from_env()
    service = RecommendationService(Graph.connect(settings), settings)
    try:
        return getattr(service, method)(*args, **kwargs)
    except (NotFound, NoModel, BadFilter) as exc:
        raise CommandError(str(exc)) from None
    finally:
        service.graph.close()


def _check(k: int, paths: int, diversity: float = 0.0) -> None:
    from kgrec.cli import CommandError
    from kgrec.serve.errors import MAX_K, MAX_PATHS

    if not 1 <= k <= MAX_K:
        raise CommandError(f"--k must be between 1 and {MAX_K}")
    if not 0 <= paths <= MAX_PATHS:
        raise CommandError(f"--paths must be between 0 and {MAX_PATHS}")
    if not 0.0 <= diversity <= 1.0:
        raise CommandError("--diversity must be between 0 and 1")


def recommend(args: argparse.Namespace) -> int:
    _check(args.k, args.paths, args.diversity)
    doc = _ask("recommend", args.user, k=args.k, paths=args.paths, diversity=args.diversity, category=args.category)
    if args.json:
        print(json.dumps(doc, ensure_ascii=False))
    else:
        print(f"user {doc['user']} · model {doc['model_version']}")
        for rank, item in enumerate(doc["items"], 1):
            print(f"{rank:>3}. {item['title']} (id {item['id']}, score {item['score']:.4f})")
            for e in item.get("explanations", []):
                print(f"       - {e['text']}")
    return 0


def explain(args: argparse.Namespace) -> int:
    _check(1, args.paths)
    doc = _ask("explain", args.user, args.item, paths=args.paths)
    if args.json:
        print(json.dumps(doc, ensure_ascii=False))
    else:
        print(f"{doc['title']} for user {doc['user']}:")
        for e in doc.get("explanations", []) or [{"text": "(no path in the graph links them)"}]:
            print(f"  - {e['text']}")
    return 0
