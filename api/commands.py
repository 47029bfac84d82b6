"""`kgrec serve`: the REST API behind a production WSGI server (waitress)."""
from __future__ import annotations

import argparse
import ipaddress
import logging


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the REST API (waitress)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--threads", type=int, default=16, help="worker threads (default 16)")
    p.set_defaults(handler=serve)


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the API on this machine (``0.0.0.0``, ``::`` and names do not)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(args: argparse.Namespace) -> int:
    import waitress

    from kgrec.api.app import create_app
    from kgrec.cli import CommandError
    from kgrec.config import Settings

    settings = Settings.from_env()
    if not settings.api_key and not is_loopback(args.host):
        raise CommandError(f"refusing to serve on {args.host} without KGREC_API_KEY: anyone who reaches it could "
                           "read and erase users' data; set KGREC_API_KEY or bind to 127.0.0.1")
    app = create_app(settings)
    logging.getLogger("kgrec.api").info(
        "kgrec API on http://%s:%s/ (docs: /docs, OpenAPI: /openapi.json, metrics: /metrics)", args.host, args.port,
        extra={"fields": {"host": args.host, "port": args.port, "threads": args.threads}})
    waitress.serve(app, host=args.host, port=args.port, threads=args.threads, ident="kgrec",
                   connection_limit=1000, channel_timeout=30)
    return 0
