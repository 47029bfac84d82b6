"""The `kgrec` command. Each part registers its own sub-commands (a ``commands`` module with
``register(subparsers)``); heavy libraries (torch, PyKEEN, spaCy) are imported only inside the
handlers that need them, so light commands answer in about a second."""
from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# The parts that contribute sub-commands, in the order `kgrec --help` lists them.
COMMAND_MODULES = [
    "kgrec.graph.commands",
    "kgrec.ingest.commands",
    "kgrec.ranking.commands",
    "kgrec.explain.commands",
    "kgrec.api.commands",
    "kgrec.refresh.commands",
    "kgrec.privacy.commands",
    "kgrec.demo",
]


class CommandError(RuntimeError):
    """An error the user can act on: printed without a traceback, exit code 1 (or ``code``)."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kgrec", description="kgrec: an explainable knowledge-graph recommender on Neo4j.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from kgrec.logs import setup_logging

    setup_logging()
    parser = build_parser()
    args = parser.parse_args(argv)
    from kgrec.graph.connection import GraphUnavailable
    from kgrec.graph.embedded import ServerError

    try:
        return int(args.handler(args) or 0)
    except (CommandError, ServerError, GraphUnavailable) as exc:
        print(f"kgrec: error: {exc}", file=sys.stderr)
        return getattr(exc, "code", 1)
    except KeyboardInterrupt:
        print("kgrec: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
