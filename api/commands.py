"""`kgrec serve`: the REST API behind a production WSGI server: waitress (one process, threads), or with
``--workers N`` gunicorn (N processes on one port; each loads the model from the model store's memory-mapped
files, so they share its pages read-only)."""
from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import tempfile
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the REST API (waitress; gunicorn with --workers N > 1)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads per process (default 16 with one process, 4 per worker with --workers)")
    p.add_argument("--workers", type=int, default=1,
                   help="processes (default 1); N > 1 runs gunicorn with N worker processes on one port "
                        "(one per core is the usual choice)")
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
    from kgrec.cli import CommandError
    from kgrec.config import Settings

    settings = Settings.from_env()
    if not settings.api_key and not is_loopback(args.host):
        raise CommandError(f"refusing to serve on {args.host} without KGREC_API_KEY: anyone who reaches it could "
                           "read and erase users' data; set KGREC_API_KEY or bind to 127.0.0.1")
    if args.workers < 1:
        raise CommandError("--workers must be at least 1")
    if args.workers > 1:
        if os.name != "posix":
            raise CommandError("--workers needs gunicorn, which runs on Unix only; serve one process per port instead")
        # every worker's counters and timings in one /metrics answer (prometheus-client's multiprocess mode):
        # set before the app, and so prometheus-client, is imported
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="kgrec-metrics-"))
        return _gunicorn(settings, args.host, args.port, args.workers, args.threads or 4)
    import waitress

    from kgrec.api.app import create_app

    threads = args.threads or 16
    app = create_app(settings)
    _announce(args.host, args.port, {"threads": threads, "workers": 1})
    waitress.serve(app, host=args.host, port=args.port, threads=threads, ident="kgrec",
                   connection_limit=1000, channel_timeout=30)
    return 0


def _announce(host: str, port: int, fields: dict[str, Any]) -> None:
    logging.getLogger("kgrec.api").info(
        "kgrec API on http://%s:%s/ (docs: /docs, OpenAPI: /openapi.json, metrics: /metrics)", host, port,
        extra={"fields": {"host": host, "port": port, **fields}})


def _gunicorn(settings: Any, host: str, port: int, workers: int, threads: int) -> int:
    """N gunicorn worker processes (threaded), each with its own app, Neo4j driver and model snapshot; the app
    is built after the fork (a driver's sockets must not be shared between processes) and the active model is
    loaded before a worker takes its first request."""
    from gunicorn.app.base import BaseApplication

    from kgrec.api.app import create_app

    def warm(worker: Any) -> None:
        from kgrec.serve.errors import NoModel

        try:
            worker.wsgi.extensions["kgrec"].snapshot()
        except NoModel:
            pass  # nothing trained yet: requests answer 503 until a version is published
        except Exception as exc:  # Neo4j not up yet: the first request loads it (and answers 503 until then)
            logging.getLogger("kgrec.api").warning("model not loaded at worker start: %s", exc)

    def child_exit(server: Any, worker: Any) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            for key, value in {"bind": [bind], "workers": workers, "worker_class": "gthread", "threads": threads,
                               "timeout": 60, "graceful_timeout": 30, "keepalive": 5, "backlog": 2048,
                               "post_worker_init": warm, "child_exit": child_exit, "accesslog": None,
                               "proc_name": "kgrec-serve"}.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return create_app(settings)

    _announce(host, port, {"threads": threads, "workers": workers})
    Server().run()
    return 0
