"""`kgrec refresh`: one run now, or on a schedule (`--every 6h`, `--cron "0 */6 * * *"`) in the foreground."""
from __future__ import annotations

import argparse
import json
import re
import sys

from kgrec.config import Settings

#: exit codes: 0 published or kept, 1 the run failed, 2 Neo4j unreachable / bad configuration, 75 locked
EXIT_FAILED, EXIT_UNAVAILABLE, EXIT_LOCKED = 1, 2, 75


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("refresh", help="fold new data in, retrain, publish only if not worse")
    p.add_argument("--source", action="append", metavar="KIND:PATH",
                   help="movielens:DIR or csv:DIR (repeatable; default KGREC_REFRESH_SOURCES, else KGREC_DATA_DIR)")
    p.add_argument("--full", action="store_true",
                   help="retrain from scratch (default: warm-start from the active version's embeddings)")
    p.add_argument("--quick", action="store_true",
                   help="quick training (epochs x0.1, one KGE candidate), as `kgrec train --quick`: tests, smoke runs")
    p.add_argument("--tolerance", type=float, default=None,
                   help="publish unless NDCG@10 drops by more than this (default 0.005)")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--every", metavar="INTERVAL", help="run now and then every INTERVAL (e.g. 30m, 6h, 1d)")
    when.add_argument("--cron", metavar="EXPR", help="run on a crontab schedule (e.g. '0 */6 * * *')")
    p.add_argument("--json", action="store_true", help="print the run's outcome as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=refresh)


def parse_interval(text: str) -> int:
    """Seconds in '90s', '30m', '6h', '1d' (or a bare number of seconds)."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text)
    if not match or int(match.group(1)) == 0:
        from kgrec.cli import CommandError

        raise CommandError(f"--every expects a positive interval like 30m, 6h or 1d; got {text!r}", EXIT_UNAVAILABLE)
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def _once(args: argparse.Namespace) -> int:
    from kgrec.graph.connection import GraphUnavailable
    from kgrec.refresh.job import DEFAULT_TOLERANCE, RefreshError, run_refresh
    from kgrec.refresh.lock import LockHeld

    try:
        outcome = run_refresh(Settings.from_env(), sources=args.source, full=args.full,
                              tolerance=DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance,
                              progress=not args.quiet, quick=args.quick)
    except GraphUnavailable as exc:
        print(f"kgrec refresh: Neo4j is unreachable, nothing was done: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except RefreshError as exc:
        print(f"kgrec refresh: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except LockHeld as exc:
        print(f"kgrec refresh: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except Exception as exc:  # the run recorded itself as failed; say why and exit non-zero
        print(f"kgrec refresh: the run failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        print(json.dumps(outcome.to_dict(), default=str))
    return 0


def refresh(args: argparse.Namespace) -> int:
    if not (args.every or args.cron):
        return _once(args)
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    if args.every:
        trigger = IntervalTrigger(seconds=parse_interval(args.every))
    else:
        try:
            trigger = CronTrigger.from_crontab(args.cron)
        except ValueError as exc:
            from kgrec.cli import CommandError

            raise CommandError(f"--cron: {exc}", EXIT_UNAVAILABLE) from None
    scheduler = BlockingScheduler()
    # one run at a time in this process (the Neo4j lock guards against other processes); missed runs coalesce
    from datetime import datetime

    scheduler.add_job(_once, trigger, args=[args], max_instances=1, coalesce=True,
                      next_run_time=datetime.now() if args.every else None, misfire_grace_time=3600)
    print(f"kgrec refresh scheduled ({'every ' + args.every if args.every else 'cron ' + args.cron}); Ctrl-C stops it",
          file=sys.stderr, flush=True)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0
