"""The evaluation report as a table (each model's NDCG@10 ratio to the best baseline a user would
pick instead, with the bootstrap interval), a PNG of NDCG@k for k = 1..20, and the serving speed
of the hybrid (one user against the whole catalogue, in-process) beside its 5 ms budget.

    .venv/bin/python bench/accuracy.py [--version V] [--recompute] [--plot ndcg_at_k.png]
    .venv/bin/python bench/accuracy.py --targets DIR [DIR ...]   # issue 19's targets, side by side

Reads the active version (or --version) from Neo4j and its model directory; --recompute scores
everything again instead of using the report written by `kgrec train`. ``--targets`` reads the reports of
model directories (any home: the MovieLens temporal and random runs, the generated music / products
examples) and prints each against its target: on MovieLens temporal hybrid >= 1.15x the best baseline
(EASE included) with the interval's low end >= 1.05, on the random protocol >= 1.05x tuned EASE, on the
implicit examples >= 1.10x tuned ALS; and training (tuning + refit) within 15 minutes.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from kgrec.config import Settings
from kgrec.graph.connection import Graph
from kgrec.ranking.commands import format_report
from kgrec.ranking.evaluation import evaluate_directory
from kgrec.ranking.modelstore import read_report, version_dir

LATENCY_BUDGET_MS = 5.0
#: issue 19's targets: (catalogue kind, protocol) -> (reference model, minimum ratio, minimum interval low end)
TARGETS = {("movies", "temporal"): ("best baseline", 1.15, 1.05), ("movies", "random"): ("ease", 1.05, None),
           ("implicit", "temporal"): ("mf", 1.10, None)}
TRAIN_BUDGET_S = 900.0


def targets_table(directories: list[Path]) -> str:
    """One line per model directory: its catalogue and protocol, hybrid NDCG@10 / the reference model's with
    a paired bootstrap interval, the target, met or missed (and by how much), and the training time."""
    import json

    lines = [f"{'version':24s} {'catalogue':10s} {'protocol':9s} {'hybrid':>7s} {'vs':>13s} {'ref':>7s} "
             f"{'ratio':>6s} {'ci95':>13s} {'target':>7s} {'result':>22s} {'train s':>8s}"]
    for directory in directories:
        report = read_report(directory)
        manifest = json.loads((directory / "manifest.json").read_text())
        catalogue = manifest.get("catalogue", "movies")
        protocol = report.get("protocol", "temporal")
        kind = "movies" if catalogue == "movies" else "implicit"
        ref, want, want_low = TARGETS.get((kind, protocol), ("best baseline", 1.0, None))
        models, comp = report["models"], report["comparison"]
        name = comp["best_baseline"] if ref == "best baseline" else ref
        ratio = models["hybrid"]["ndcg@10"] / max(models[name]["ndcg@10"], 1e-12)
        ci = comp.get("hybrid_vs_baselines", {}).get(name) or (
            comp["hybrid_vs_best_baseline"] if name == comp["best_baseline"] else None)
        ci_text = f"{ci['ci95_low']:.3f}..{ci['ci95_high']:.3f}" if ci else "-"
        met = ratio >= want and (want_low is None or (ci is not None and ci["ci95_low"] >= want_low))
        result = "met" if met else f"missed by {max(want - ratio, 0):.3f}" + (
            f" (low {ci['ci95_low']:.3f}<{want_low})" if want_low and ci and ci["ci95_low"] < want_low else "")
        total = report.get("timings_s", {}).get("total")
        lines.append(f"{report['version']:24s} {catalogue:10s} {protocol:9s} {models['hybrid']['ndcg@10']:7.4f} "
                     f"{name:>13s} {models[name]['ndcg@10']:7.4f} {ratio:6.3f} {ci_text:>13s} {want:7.2f} "
                     f"{result:>22s} {total if total is not None else '-':>8}"
                     + (f" (budget {TRAIN_BUDGET_S:g} s: {total / TRAIN_BUDGET_S:.2f})" if total else ""))
    return "\n".join(lines)


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for name, curve in report["ndcg_curve"].items():
        style = "-" if name.startswith("hybrid") else "--"
        ax.plot(range(1, len(curve) + 1), curve, style, label=name, linewidth=2.2 if name == "hybrid" else 1.2)
    ax.set_xlabel("k")
    ax.set_ylabel("NDCG@k (test)")
    ax.set_title(f"kgrec {report['version']}: NDCG@k, per-user temporal hold-out")
    ax.set_xticks(range(1, 21))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def latency(directory: Path, repeats: int = 5) -> dict[str, float]:
    """Median and 95th percentile of score_profile over real training profiles (best of repeats)."""
    from kgrec.ranking.dataset import Dataset
    from kgrec.ranking.recommender import Recommender

    rec = Recommender.load(directory)
    data = Dataset.load(directory)
    profiles = []
    for u in range(data.n_users):
        m = data.users == u
        profiles.append(list(zip(data.item_ids[data.items[m]].tolist(), data.ratings[m].tolist(), data.ts[m].tolist())))
    for p in profiles[:20]:  # warm-up (caches, first-call allocations)
        rec.score_profile(p)
    per_user = []
    for p in profiles:
        best = float("inf")
        for _ in range(repeats):
            t = time.perf_counter()
            rec.score_profile(p)
            best = min(best, time.perf_counter() - t)
        per_user.append(best * 1000)
    return {"median_ms": statistics.median(per_user), "p95_ms": float(np.percentile(per_user, 95)),
            "max_ms": max(per_user), "users": len(per_user),
            "median_profile": statistics.median(len(p) for p in profiles)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", default=None)
    parser.add_argument("--recompute", action="store_true")
    parser.add_argument("--plot", type=Path, default=Path("ndcg_at_k.png"))
    parser.add_argument("--targets", type=Path, nargs="+", default=None, metavar="DIR",
                        help="model directories whose reports to set against issue 19's targets, side by side")
    args = parser.parse_args()
    if args.targets:
        print(targets_table(args.targets))
        return
    settings = Settings.from_env()
    with Graph.connect(settings) as graph:
        version = args.version or graph.read("models/active_version")[0]["id"]
        directory = version_dir(settings.models_dir, version)
        report = evaluate_directory(directory, graph, settings) if args.recompute else read_report(directory)
    print(format_report(report))
    if "timings_s" in report:
        print("training time (s): " + ", ".join(f"{k} {v:g}" for k, v in report["timings_s"].items())
              + f"  (budget 600 s: ratio {report['timings_s']['total'] / 600:.2f})")
    plot(report, args.plot)
    print(f"NDCG@k plot: {args.plot}")
    import threadpoolctl

    with threadpoolctl.threadpool_limits(1):  # one request, one core
        lat = latency(directory)
    print(f"score_profile, one user x {report['split']['items']} items: "
          f"median {lat['median_ms']:.2f} ms, p95 {lat['p95_ms']:.2f} ms, max {lat['max_ms']:.2f} ms over "
          f"{lat['users']} users (median profile {lat['median_profile']:.0f} ratings); "
          f"median / {LATENCY_BUDGET_MS:g} ms budget = {lat['median_ms'] / LATENCY_BUDGET_MS:.2f}")


if __name__ == "__main__":
    main()
