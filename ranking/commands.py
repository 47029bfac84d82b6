"""`kgrec train`, `kgrec evaluate` and `kgrec models …`."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from kgrec.config import Settings
from kgrec.ranking.split import PROTOCOLS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train every model on the graph, evaluate, publish and activate a new version")
    p.add_argument("--quick", action="store_true",
                   help="a tenth of the epochs and one PyKEEN model (smoke runs, tests); see KGREC_TRAIN_EPOCHS_SCALE")
    p.add_argument("--no-publish", action="store_true",
                   help="only write the model directory; do not touch Neo4j or change the active version")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--json", action="store_true", help="print the evaluation report as JSON at the end")
    p.add_argument("--protocol", choices=PROTOCOLS, default="temporal",
                   help="held-out split the tuning run is tuned and evaluated on: per-user temporal (default) or "
                        "per-user random 80/10/10 on positives (RecBole-style)")
    p.add_argument("--no-refit", action="store_true",
                   help="publish the tuning run's components (trained on the training part) instead of refitting "
                        "them on every interaction")
    p.set_defaults(handler=train_command)

    p = sub.add_parser("evaluate", help="metrics of the active model and every baseline on the held-out test users")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--version", default=None, help="a model version (default: the active one)")
    p.add_argument("--recompute", action="store_true",
                   help="score everything again from the model directory and Neo4j instead of printing the "
                        "report written at training time")
    p.add_argument("--protocol", choices=PROTOCOLS, default=None,
                   help="the held-out protocol to report: a version trained under another one is not re-scored: a "
                        "tuning run under this protocol is trained (not published, no refit) and its report printed")
    p.set_defaults(handler=evaluate_command)

    models = sub.add_parser("models", help="list or activate trained model versions")
    m_sub = models.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = m_sub.add_parser("list", help="the model versions recorded in Neo4j, newest first")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=models_list)
    p = m_sub.add_parser("activate", help="make a trained version the active one (publishes it if needed)")
    p.add_argument("version")
    p.set_defaults(handler=models_activate)


def train_command(args: argparse.Namespace) -> int:
    from kgrec.cli import CommandError
    from kgrec.graph.connection import Graph
    from kgrec.ranking.modelstore import read_report, version_dir
    from kgrec.ranking.training import TrainConfig, publish, train

    settings = Settings.from_env()
    try:
        config = TrainConfig.from_settings(settings, quick=args.quick)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    from dataclasses import replace

    config = replace(config, protocol=args.protocol, refit=not args.no_refit, progress=not args.quiet)
    log = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    with Graph.connect(settings) as graph:
        try:
            version = train(graph, settings, config, log)
        except ValueError as exc:  # empty graph, no validation positives, bad split
            raise CommandError(f"cannot train: {exc}") from None
        if not args.no_publish:
            publish(graph, settings, version, log)
    report = read_report(version_dir(settings.models_dir, version))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
        print(f"model version {version}" + ("" if args.no_publish else " (active)"))
    return 0


def _resolve_version(graph: Any, settings: Settings, version: str | None) -> str:
    from kgrec.cli import CommandError

    if version:
        return version
    rows = graph.read("models/active_version")
    if not rows:
        raise CommandError("no model version is active: run `kgrec train` first")
    return rows[0]["id"]


def evaluate_command(args: argparse.Namespace) -> int:
    from kgrec.cli import CommandError
    from kgrec.graph.connection import Graph
    from kgrec.ranking.evaluation import evaluate_directory
    from kgrec.ranking.modelstore import read_manifest, read_report, version_dir

    settings = Settings.from_env()
    with Graph.connect(settings) as graph:
        try:
            version = _resolve_version(graph, settings, args.version)
            directory = version_dir(settings.models_dir, version)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if not directory.exists():
            raise CommandError(f"model version {version} has no directory {directory} (trained on another machine?)")
        if args.protocol and args.protocol != read_manifest(directory).get("protocol", "temporal"):
            report = _protocol_run(graph, settings, args.protocol)
        elif args.recompute:
            report = evaluate_directory(directory, graph, settings)
            report["source"] = "recomputed"
        else:
            report = read_report(directory)
            report["source"] = "written at training time (use --recompute to score again)"
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _protocol_run(graph: Any, settings: Settings, protocol: str) -> dict[str, Any]:
    """The report of a tuning run under ``protocol`` (a new version directory, neither refitted nor published)."""
    from dataclasses import replace

    from kgrec.cli import CommandError
    from kgrec.ranking.modelstore import read_report, version_dir
    from kgrec.ranking.training import TrainConfig, train

    config = replace(TrainConfig.from_settings(settings), protocol=protocol, refit=False)
    print(f"the active version was not evaluated under the {protocol} protocol: training a tuning run under it "
          "(not published) …", file=sys.stderr, flush=True)
    try:
        version = train(graph, settings, config, lambda m: print(m, file=sys.stderr, flush=True))
    except ValueError as exc:
        raise CommandError(f"cannot train: {exc}") from None
    report = read_report(version_dir(settings.models_dir, version))
    report["source"] = f"tuning run {version} under the {protocol} protocol (not published)"
    return report


def format_report(report: dict[str, Any]) -> str:
    """The models as a table with NDCG@10 ratios to the best baseline (bench/accuracy.py prints the same)."""
    models, comp = report["models"], report["comparison"]
    best = comp["best_baseline"]
    cols = ["precision@10", "recall@10", "recall@20", "ndcg@10", "ndcg@20", "mrr", "auc", "coverage@10"]
    val = report.get("validation_ndcg@10", {})
    lines = [f"{'model':18s} " + " ".join(f"{c:>12s}" for c in cols) + f" {'x best bl.':>10s} {'val ndcg@10':>11s}"]
    for name, m in models.items():
        ratio = m["ndcg@10"] / max(models[best]["ndcg@10"], 1e-12)
        v = val.get(name)
        lines.append(f"{name:18s} " + " ".join(f"{m[c]:12.4f}" for c in cols) + f" {ratio:10.3f} "
                     + (f"{v:11.4f}" if v is not None else f"{'-':>11s}"))
    ci = comp["hybrid_vs_best_baseline"]
    s = report["split"]
    lines.append(f"best baseline: {best}; hybrid / {best} NDCG@10 = {ci['ratio']:.3f} "
                 f"(95% bootstrap interval {ci['ci95_low']:.3f} .. {ci['ci95_high']:.3f}, {ci['users']} users)")
    lines.append(f"split: {s['users']} users, {s['items']} items; train {s['train_interactions']}, "
                 f"val {s['val_interactions']}, test {s['test_interactions']} ratings; "
                 f"{s['evaluated_test_users']} test users; positives = rating >= {s['positive_rating']}")
    for name, r in comp.get("hybrid_vs_ablations", {}).items():
        lines.append(f"hybrid / {name} = {r['ratio']:.3f} (paired 95% interval {r['ci95_low']:.3f} .. {r['ci95_high']:.3f})")
    for name, why in report.get("excluded_components", {}).items():
        lines.append(f"left out of the published blend: {name}: {why['reason'] if isinstance(why, dict) else why}")
    runs = report.get("runs", {})
    if "refit" in runs:
        lines.append(f"published: refit on all {runs['refit']['interactions']} interactions with "
                     f"{runs['refit']['choices']}; held-out numbers from the tuning run "
                     f"({runs['tuning']['interactions']} training interactions)")
    lines.append(f"protocol: {report.get('protocol', 'temporal')}")
    lines.append("targets: " + ", ".join(f"{k} {'unknown' if v is None else 'OK' if v else 'MISSED'}"
                                         for k, v in comp["targets"].items()))
    return "\n".join(lines)


def models_list(args: argparse.Namespace) -> int:
    from kgrec.graph.connection import Graph

    with Graph.connect(Settings.from_env()) as graph:
        rows = graph.read("models/list_versions")
    if args.json:
        print(json.dumps(rows))
    elif not rows:
        print("no model versions yet: run `kgrec train`")
    else:
        for r in rows:
            print(f"{r['id']}  {'active' if r['active'] else '      '}  {r['created']}  {r['key'] or r['path']}")
    return 0


def models_activate(args: argparse.Namespace) -> int:
    from kgrec.cli import CommandError
    from kgrec.graph.connection import Graph
    from kgrec.ranking.modelstore import version_dir
    from kgrec.ranking.training import publish

    settings = Settings.from_env()
    try:
        directory = version_dir(settings.models_dir, args.version)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if not Path(directory, "manifest.json").exists():
        raise CommandError(f"no trained model version {args.version} in {settings.models_dir}")
    with Graph.connect(settings) as graph:
        publish(graph, settings, args.version)
    print(f"model version {args.version} is active")
    return 0
