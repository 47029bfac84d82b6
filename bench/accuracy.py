"""The evaluation report as a table (each model's NDCG@10 ratio to the best baseline a user would
pick instead, with the bootstrap interval), a PNG of NDCG@k for k = 1..20, and the serving speed
of the hybrid (one user against the whole catalogue, in-process) beside its 5 ms budget.

    .venv/bin/python bench/accuracy.py [--version V] [--recompute] [--plot ndcg_at_k.png]

Reads the active version (or --version) from Neo4j and its model directory; --recompute scores
everything again instead of using the report written by `kgrec train`.
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
    args = parser.parse_args()
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
