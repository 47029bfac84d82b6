"""`kgrec serve`: the REST API behind a production WSGI server (waitress)."""
from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the REST API (waitress)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--threads", type=int, default=16, help="worker threads (default 16)")
    p.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> int:
    import waitress

    from kgrec.api.app import create_app

    app = create_app()
    print(f"kgrec API on http://{args.host}:{args.port}/ (docs: /docs, OpenAPI: /openapi.json)",
          file=sys.stderr, flush=True)
    waitress.serve(app, host=args.host, port=args.port, threads=args.threads, ident="kgrec",
                   connection_limit=1000, channel_timeout=30)
    return 0
