"""Explanation quality and speed on the active model version (run after `make demo` or `kgrec train`).

    .venv/bin/python bench/explanations.py [--users 100] [--k 10] [--paths 3]

Over a seeded sample of users' top-k (in-process, against the configured Neo4j):
- coverage: share of recommendations with at least one path;
- validity: share of returned paths that a separate MATCH (cypher/explain/validate_path.cypher) finds;
- specificity: share of explanations whose shared node is a person, tag, keyword, studio or entity rather
  than a genre or country, and the median degree of the shared node;
- type diversity: distinct explanation kinds per user's top-k;
- recency of the linked interaction (in the spirit of Balloccu et al., SIGIR 2022, LIR): where the liked item
  stands in the user's history by time, 1.0 = the newest interaction, 0.0 = the oldest;
- latency of recommend + explain for one user (p50, p99), and the same without explanations beside it;
- what requiring an explanation costs: NDCG@10 on the held-out test ratings of the plain ranking vs the
  explanation-aware one (top-2k re-ranked so explainable items come first), both scored from each test user's
  pre-test history.
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import time

import numpy as np

from kgrec.config import Settings
from kgrec.explain.paths import SPECIFIC_KINDS, Likes, explain_items, path_exists
from kgrec.explain.service import RecommendationService, cold_items
from kgrec.graph.connection import Graph


def pct(values: list[float], q: float) -> float:
    data = sorted(values)
    return data[min(len(data) - 1, int(q * len(data)))] if data else float("nan")


def ndcg(ranked: list[int], positives: set[int], k: int = 10) -> float:
    gains = sum(1.0 / np.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in positives)
    ideal = sum(1.0 / np.log2(i + 2) for i in range(min(k, len(positives))))
    return gains / ideal if ideal else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--paths", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    # the response cache off: every call below computes (a cached answer would time nothing)
    settings = dataclasses.replace(Settings.from_env(), cache_seconds=0)
    graph = Graph.connect(settings)
    service = RecommendationService(graph, settings)
    model = service.model()
    all_users = sorted(r["id"] for r in graph.run_text("MATCH (u:User) WHERE EXISTS { (u)-[:RATED]->() } "
                                                        "RETURN u.id AS id"))
    users = random.Random(args.seed).sample(all_users, min(args.users, len(all_users)))

    for user in users[:5]:  # warm-up: caches, JIT, connection pool
        service.recommend(user, k=args.k, paths=args.paths)
    timings, plain_timings = [], []
    recs = 0
    with_path = 0
    explanations = []
    kinds_per_user = []
    recency = []
    for user in users:
        t = time.perf_counter()
        doc = service.recommend(user, k=args.k, paths=args.paths)
        timings.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        service.recommend(user, k=args.k, paths=0, explain=False)
        plain_timings.append((time.perf_counter() - t) * 1000)
        history = sorted(service.profile(user), key=lambda p: p[2])
        position = {item: i / max(len(history) - 1, 1) for i, (item, _, _) in enumerate(history)}
        kinds = set()
        for item in doc["items"]:
            recs += 1
            with_path += bool(item["explanations"])
            for e in item["explanations"]:
                explanations.append(e)
                kinds.add(e["kind"])
                if e.get("liked_item") in position:
                    recency.append(position[e["liked_item"]])
        kinds_per_user.append(len(kinds))

    valid = sum(path_exists(graph, e["path"]) for e in explanations)
    specific = [e for e in explanations if e["kind"] in SPECIFIC_KINDS]
    degrees = [e["shared_degree"] for e in explanations if e.get("shared_degree") is not None
               and e["kind"] not in ("co_liked",)]

    print(f"model version {model.version}; {len(users)} users x top-{args.k}, {args.paths} paths each")
    print(f"{'coverage (recs with >= 1 path)':<46}{with_path / recs:>8.1%}   ({with_path}/{recs})")
    print(f"{'validity (paths found again by MATCH)':<46}{valid / max(len(explanations), 1):>8.1%}   "
          f"({valid}/{len(explanations)})")
    print(f"{'specificity (person/tag/keyword/entity/studio)':<46}{len(specific) / max(len(explanations), 1):>8.1%}")
    print(f"{'median degree of the shared node':<46}{statistics.median(degrees) if degrees else float('nan'):>8.0f}")
    counts: dict[str, int] = {}
    for e in explanations:
        counts[e["kind"]] = counts.get(e["kind"], 0) + 1
    print(f"{'kinds':<46}" + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
    print(f"{'type diversity (distinct kinds per top-k)':<46}{statistics.mean(kinds_per_user):>8.2f}")
    print(f"{'recency of the linked interaction (1 = newest)':<46}{statistics.mean(recency):>8.2f}")
    print(f"{'recommend + explain, ms (p50 / p99)':<46}{pct(timings, 0.5):>8.1f} / {pct(timings, 0.99):.1f}"
          f"   (targets 20 / 60)")
    print(f"{'recommend only, ms (p50 / p99)':<46}{pct(plain_timings, 0.5):>8.1f} / {pct(plain_timings, 0.99):.1f}")
    explanation_cost(graph, model, settings, users, args.k, args.paths)


def explanation_cost(graph: Graph, model, settings: Settings, users: list[int], k: int, paths: int) -> None:
    """NDCG@10 of the plain vs the explanation-aware ranking, from pre-test histories."""
    from kgrec.ranking.dataset import Dataset
    from kgrec.ranking.modelstore import version_dir
    from kgrec.ranking.split import TEST

    directory = version_dir(settings.models_dir, model.version)
    data = Dataset.load(directory)
    part = np.load(directory / "split.npy")
    plain, aware, with_cold = [], [], []
    cold_used = 0
    for user in users:
        uidx = np.flatnonzero(data.user_ids == user)
        if not len(uidx):
            continue
        rows = np.flatnonzero(data.users == uidx[0])
        before = [(int(data.item_ids[data.items[r]]), float(data.ratings[r]), int(data.ts[r]))
                  for r in rows if part[r] != TEST]
        positives = {int(data.item_ids[data.items[r]]) for r in rows
                     if part[r] == TEST and data.ratings[r] >= model.positive_rating}
        if not positives or not before:
            continue
        ranked = [item for item, _ in model.recommend(before, k=2 * k)]
        explained = explain_items(graph, user, ranked, paths=1,
                                  likes=Likes.from_profile(before, [], model.positive_rating))
        reranked = sorted(ranked, key=lambda item: not explained.get(item))
        plain.append(ndcg(ranked, positives, k))
        aware.append(ndcg(reranked, positives, k))
        # the serving's cold-start slot: a cold item that matches the profile strongly takes the last place
        allowed = ~np.isin(model.item_ids, [p[0] for p in before])
        taken = [model.index_of(item) for item in ranked[:k]]
        cold = [int(model.item_ids[i]) for i in cold_items(model, before, allowed, taken, settings.cold_slots)]
        with_cold.append(ndcg(ranked[:k - len(cold)] + cold, positives, k))
        cold_used += bool(cold)
    a, b = statistics.mean(plain), statistics.mean(aware)
    print(f"{'NDCG@10 plain vs explanation-aware (test)':<46}{a:>8.4f} vs {b:.4f}  (ratio {b / a:.3f}, "
          f"{len(plain)} test users of the sample)")
    c = statistics.mean(with_cold)
    print(f"{'NDCG@10 plain vs with the cold-start slot':<46}{a:>8.4f} vs {c:.4f}  (ratio {c / a:.3f}; "
          f"a cold item took the last slot for {cold_used} of {len(plain)} users)")


if __name__ == "__main__":
    main()
