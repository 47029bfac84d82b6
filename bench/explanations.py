"""Explanation quality and speed on the active model version (run after `make demo` or `kgrec train`):
ours against three baselines on the same recommendations.

    .venv/bin/python bench/explanations.py [--users 100] [--k 10] [--paths 3] [--timing-only]

Over a seeded sample of users' top-k (in-process, against the configured Neo4j), each method explains the
same items with up to ``--paths`` paths:
- ours: the serving explanations (kgrec.serve: trusted, faithful, ranked by learned lift);
- genres: the Neo4j recommendations example's "shared genres": paths through the catalogue's category (a
  broad shared attribute), best-rated liked item first;
- random: random valid paths from the graph walk (no junk rule);
- specific: the most specific shared nodes first (lowest degree; the rule before the trust rules).
Columns: validity (a separate MATCH finds the path), fidelity (removing the cited item lowers the item's
served score: exact leave-one-out), mean contribution share, mean learned lift of the kind of link, junk
rate (a tag fewer than KGREC_EXPLAIN_MIN_TAG_USERS people applied, a date/number entity, a minor role),
redundancy (items showing one fact twice), kinds per top-k list, coverage (items with >= 1 path), and the
time to explain one user's list (p50/p99; ours: recommend + explain, over ``--passes`` uncached passes of the
sample, default 3: a p99 of 300 requests, not the slowest of 100, after an untimed pass over ``--warm-up``
other users, default 100, so that a server freshly started — Neo4j's page cache and query plans, the
model's lazily built parts — is timed in its steady state, not its first minute). Then what requiring an explanation
costs: NDCG@10 on the held-out test ratings of the plain ranking vs the explanation-aware one.
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from kgrec.config import Settings
from kgrec.explain import trust
from kgrec.explain.fidelity import leave_one_out
from kgrec.explain.paths import Candidate, Likes, candidate_path, explain_items, fetch_candidates, kind_of, \
    path_exists
from kgrec.serve.pipeline import RecommendationService
from kgrec.serve.rerank import cold_items
from kgrec.graph.connection import Graph
from kgrec.ingest.names import slug


def pct(values: list[float], q: float) -> float:
    data = sorted(values)
    return data[min(len(data) - 1, int(q * len(data)))] if data else float("nan")


def ndcg(ranked: list[int], positives: set[int], k: int = 10) -> float:
    gains = sum(1.0 / np.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in positives)
    ideal = sum(1.0 / np.log2(i + 2) for i in range(min(k, len(positives))))
    return gains / ideal if ideal else 0.0


@dataclasses.dataclass
class Shown:
    """One explanation as the bench judges it."""

    item: int
    kind: str
    path: dict[str, Any]
    liked: int | None
    degree: int | None


def _baseline(name: str, catalogue, seed: int) -> Callable[[Sequence[Candidate], int], list[Candidate]]:
    rng = random.Random(seed)
    category = catalogue.category or next((a.name for a in catalogue.attributes if a.broad), None)

    def pick(cands: Sequence[Candidate], paths: int) -> list[Candidate]:
        if name == "genres":
            found = [c for c in cands if kind_of(c, catalogue) == category]
            return sorted(found, key=lambda c: (-(c.rating or 0), -(c.ts or 0)))[:paths]
        if name == "random":
            return rng.sample(list(cands), min(paths, len(cands)))
        shared = sorted((c for c in cands if len(c.nodes) == 4), key=lambda c: c.degree)
        return shared[:paths] or list(cands)[:paths]

    return pick


def _fact(path: dict[str, Any]) -> str | None:
    nodes = path["nodes"]
    return slug(str(nodes[2]["name"])) if len(nodes) == 4 else None


def _junk(e: Shown, taggers: trust.Taggers, min_users: int, catalogue) -> bool:
    nodes, rels = e.path["nodes"], e.path["relationships"]
    if len(nodes) != 4:
        return False
    node = nodes[2]
    if e.kind != "your_tag" and node["labels"][0] == "Tag" and taggers.junk(str(node["value"]), min_users):
        return True
    if node["labels"][0] == "Entity" and trust.junk_entity_id(str(node["value"])):
        return True
    for r in rels[1:]:
        spec = catalogue.by_relationship.get(r["type"])
        order = r["properties"].get("order")
        if spec is not None and spec.salient is not None and order is not None and order > spec.salient:
            return True
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--paths", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--passes", type=int, default=3, help="timed passes of ours over the users")
    parser.add_argument("--warm-up", type=int, default=100,
                        help="users outside the sample served once, untimed, before the timed passes")
    parser.add_argument("--timing-only", action="store_true",
                        help="only ours' timed passes (p50/p99), no quality columns: a minute, not half an hour")
    args = parser.parse_args()
    # the response cache off: every call below computes (a cached answer would time nothing)
    settings = dataclasses.replace(Settings.from_env(), cache_seconds=0)
    graph = Graph.connect(settings)
    service = RecommendationService(graph, settings)
    model = service.model()
    catalogue, index = model.catalogue, model.shared_index
    rel = catalogue.signals.relationship
    all_users = sorted(r["id"] for r in graph.run_text(
        f"MATCH (u:User) WHERE EXISTS {{ (u)-[:`{rel}`]->() }} RETURN u.id AS id"))
    users = random.Random(args.seed).sample(all_users, min(args.users, len(all_users)))
    taggers = trust.Taggers.read(graph)

    # warm-up on other users (the sample's own requests stay first-time ones): Neo4j's page cache and
    # compiled plans, the connection pool, the model's lazily built parts
    sampled = set(users)
    others = [u for u in all_users if u not in sampled]
    for user in random.Random(args.seed + 1).sample(others, min(args.warm_up, len(others))) or users[:5]:
        service.recommend(user, k=args.k, paths=args.paths)
    methods = ("ours", "genres", "random", "specific")
    shown: dict[str, list[list[Shown]]] = {m: [] for m in methods}  # per method, per user list
    timings: dict[str, list[float]] = {m: [] for m in methods}
    items_seen = 0
    credit: dict[tuple[int, int], dict[int, float]] = {}  # (user, item) -> {liked: exact drop}
    additive: dict[tuple[int, int], dict[int, float]] = {}
    # ours is timed in a pass of its own: interleaved with the baselines' graph walks (seconds of Neo4j work
    # each on the same two cores) its time would measure their after-effects, not serving
    # over --passes passes of the sample (the cache is off: each one computes), so that p99 is read from
    # hundreds of requests rather than being the slowest of 100; the quality columns judge the first pass
    docs = {}
    for _ in range(args.passes):
        for user in users:
            t = time.perf_counter()
            doc = service.recommend(user, k=args.k, paths=args.paths)
            timings["ours"].append((time.perf_counter() - t) * 1000)
            docs.setdefault(user, doc)
    if args.timing_only:
        print(f"model version {model.version}; {len(users)} users x top-{args.k}, up to {args.paths} paths each, "
              f"{args.passes} uncached passes after {args.warm_up} warm-up users: recommend + explain "
              f"p50 {pct(timings['ours'], 0.5):.1f} ms, p99 {pct(timings['ours'], 0.99):.1f} ms "
              f"({len(timings['ours'])} requests; target p99 <= 60 ms)")
        return
    for user in users:
        doc = docs[user]
        items = [entry["id"] for entry in doc["items"]]
        items_seen += len(items)
        shown["ours"].append([Shown(entry["id"], e["kind"], e["path"], e["liked_item"], e.get("shared_degree"))
                              for entry in doc["items"] for e in entry["explanations"]])
        profile = service.profile(user)
        likes = Likes.from_profile(profile, profile.tags, model.positive_rating)
        # every baseline picks from the same graph walk: walked once, its time counted in each one's
        t = time.perf_counter()
        found, _ = fetch_candidates(graph, user, items, likes, catalogue, per_kind=max(3, args.paths) * 3,
                                    junk=False)
        walk_ms = (time.perf_counter() - t) * 1000
        for name in methods[1:]:
            pick = _baseline(name, catalogue, args.seed + user)
            t = time.perf_counter()
            chosen = {item: pick(found.get(item, []), args.paths) for item in items}
            timings[name].append(walk_ms + (time.perf_counter() - t) * 1000)
            shown[name].append([Shown(item, kind_of(c, catalogue), candidate_path(c, catalogue), c.liked_id,
                                      c.degree if len(c.nodes) == 4 else None)
                                for item, cs in chosen.items() for c in cs])
        known = [i for i in items if index.positions([i])[0] >= 0]
        cited = sorted({e.liked for m in methods for e in shown[m][-1] if e.liked is not None})
        for item, drops in leave_one_out(model, profile, known, cited).items():
            credit[(user, item)] = drops
        for item, values in (model.contributions_many(profile, known) if known else {}).items():
            additive[(user, item)] = values

    def share(u: int, e: Shown) -> float | None:
        drops, base = credit.get((u, e.item)), additive.get((u, e.item))
        if drops is None or e.liked is None:
            return None
        total = sum(v for v in {**base, **drops}.values() if v > 0)
        return drops.get(e.liked, 0.0) / total if total > 0 else 0.0

    print(f"model version {model.version}; {len(users)} users x top-{args.k}, up to {args.paths} paths each; "
          f"{items_seen} recommendations, the same for every method")
    header = (f"{'method':<10}{'valid':>7}{'fidel.':>8}{'share':>8}{'lift':>7}{'junk':>7}{'redund.':>9}"
              f"{'kinds/list':>11}{'coverage':>10}{'ms p50':>8}{'p99':>7}{'paths':>7}")
    print(header)
    for m in methods:
        flat = [(u, e) for u, lists in zip(users, shown[m]) for e in lists]
        valid = sum(path_exists(graph, e.path) for _, e in flat)
        shares = [s for s in (share(u, e) for u, e in flat) if s is not None]
        faithful = sum(s > 0 for s in shares)
        lifts = [index.lifts.of("tag" if e.kind == "your_tag" else e.kind, e.degree or 0) for _, e in flat]
        junk = sum(_junk(e, taggers, settings.explain_min_tag_users, catalogue) for _, e in flat)
        per_item: dict[tuple[int, int], list[str | None]] = {}
        for u, e in flat:
            per_item.setdefault((u, e.item), []).append(_fact(e.path))
        redundant = sum(len([f for f in facts if f]) > len({f for f in facts if f}) for facts in per_item.values())
        kinds = [len({e.kind for e in lists}) for lists in shown[m]]
        n = max(len(flat), 1)
        print(f"{m:<10}{valid / n:>7.1%}{faithful / max(len(shares), 1):>8.1%}"
              f"{statistics.mean(shares) if shares else float('nan'):>8.3f}"
              f"{statistics.mean(lifts) if lifts else float('nan'):>7.2f}{junk / n:>7.1%}"
              f"{redundant / max(len(per_item), 1):>9.1%}{statistics.mean(kinds):>11.2f}"
              f"{len(per_item) / max(items_seen, 1):>10.1%}{pct(timings[m], 0.5):>8.1f}{pct(timings[m], 0.99):>7.1f}"
              f"{len(flat):>7}")
    print("targets (ours): validity 100%, fidelity >= 95%, junk 0, redundancy 0, coverage >= 98%, "
          ">= 2 kinds per list, p99 <= 60 ms")
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
