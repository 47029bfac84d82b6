"""`kgrec privacy export|audit|erase|reregister --user ID`."""
from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from kgrec.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    priv = sub.add_parser("privacy", help="a user's data: export it, erase it, audit that it is gone")
    priv_sub = priv.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, handler, text in (
            ("export", export, "print what kgrec holds on the user as JSON (GET /users/{id}/data)"),
            ("audit", audit, "where anything of the user remains (exit 1 if something does)"),
            ("erase", erase, "erase the user everywhere (DELETE /users/{id}); records the tombstone even "
                             "when the graph has no such user"),
            ("reregister", reregister, "let the API create an erased user id again, as a new user (feeds "
                                       "keep skipping it)")):
        p = priv_sub.add_parser(name, help=text)
        p.add_argument("--user", type=int, required=True, help="user id")
        if name == "audit":
            p.add_argument("--json", action="store_true", help="print the audit as JSON")
        p.set_defaults(handler=handler)


def _with_graph(fn: Callable[..., Any]) -> Any:
    from kgrec.graph.connection import Graph

    settings = Settings.from_env()
    with Graph.connect(settings) as graph:
        return fn(graph, settings)


def export(args: argparse.Namespace) -> int:
    from kgrec.cli import CommandError
    from kgrec.privacy.export import user_data

    doc = _with_graph(lambda g, s: user_data(g, s, args.user))
    if doc is None:
        raise CommandError(f"user {args.user} not found")
    print(json.dumps(doc, indent=2))
    return 0


def audit(args: argparse.Namespace) -> int:
    from kgrec.privacy.audit import audit_user

    result = _with_graph(lambda g, s: audit_user(g, s, args.user))
    print(json.dumps(result.to_json(), indent=2) if args.json else result.format())
    return 0 if result.clean else 1


def erase(args: argparse.Namespace) -> int:
    from kgrec.privacy.erase import erase_user

    result = _with_graph(lambda g, s: erase_user(g, s, args.user, require_node=False))
    print(json.dumps(result.to_json(), indent=2))
    return 0


def reregister(args: argparse.Namespace) -> int:
    from kgrec.cli import CommandError
    from kgrec.privacy.tombstones import reregister as allow

    if not _with_graph(lambda g, s: allow(g, s, args.user)):
        raise CommandError(f"user {args.user} was never erased: nothing to re-register")
    print(f"user {args.user} re-registered: the API accepts its interactions again; feeds keep skipping it")
    return 0
