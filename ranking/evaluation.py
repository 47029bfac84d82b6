"""Tuning on validation and the evaluation report (`kgrec evaluate --json`).

Every model is scored on the same split and the same users: ranking the whole catalogue minus what
the user rated before the evaluated period, with that history folded in (validation: the training
period; test: training + validation periods).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from kgrec.config import Settings
from kgrec.graph.connection import Graph
from kgrec.ranking.dataset import Dataset
from kgrec.ranking.hybrid import (KG_COMPONENTS, SOCIAL, BlendParams, Components, blend, score_histories,
                                  social_scores, tune_weights)
from kgrec.ranking.metrics import EvalSet, bootstrap_ratio, evaluate, ndcg_at_k
from kgrec.ranking.scale import sample_users
from kgrec.ranking.split import TEST, TRAIN, VAL, Split

Log = Callable[[str], None]

#: what a user would pick instead of kgrec, each tuned on validation, and every single model of the blend:
#: the headline is hybrid / the best of these on test (EASE included)
USER_BASELINES = ("popularity", "itemknn", "mf", "ease", "cypher_cf", "lightgcn", "pykeen")
#: the single models the hybrid must match or beat
COMPONENT_MODELS = ("lightgcn", "pykeen", "ease")
#: the headline target: hybrid NDCG@10 >= HEADLINE x the best baseline's, the interval's low end >= HEADLINE_LOW
HEADLINE, HEADLINE_LOW = 1.15, 1.05
#: each single-component ablation decides whether that component is published (see _earned_places)
ABLATIONS = {"hybrid_no_pykeen": ("kge",), "hybrid_no_kgattr": ("kgattr",), "hybrid_no_gnn": ("lightgcn",),
             "hybrid_no_kg": KG_COMPONENTS}
CYPHER_CF_NEIGHBOURS = 30  # chosen once on validation among 20/30/50/100 (ml-latest-small)


@dataclass
class Tuned:
    params: BlendParams
    ablations: dict[str, dict[str, float]]
    validation: dict[str, float]
    baseline_params: dict[str, dict[str, Any]]
    fitted: dict[str, Any] = field(default_factory=dict)
    #: components left out of the published blend, and why (ablation not worse on validation)
    excluded: dict[str, Any] = field(default_factory=dict)


def network_likes(data: Dataset, split: Split, *parts: int) -> sp.csr_matrix | None:
    """users x items: how many of each user's network (follows, friends) liked the item in ``parts`` (only
    the periods the evaluated one may see); None when the catalogue has no social edges."""
    if not len(data.social_users):
        return None
    liked = sum(split.targets(data, p) for p in parts)
    liked.data[:] = 1
    return (data.social_matrix() @ liked).tocsr()


def held_out(data: Dataset, split: Split, part: int, max_cells: int) -> EvalSet:
    """The evaluation set of ``part`` (VAL or TEST): each user's history is the parts before it (and which of
    those items they liked), the targets its positives; users sampled (seeded) so the dense users x items
    score matrices stay under ``max_cells``."""
    before = (TRAIN,) if part == VAL else (TRAIN, VAL)
    evalset = EvalSet.build(split.matrix(data, *before), split.targets(data, part),
                            split.matrix(data, *before, values="liked"))
    return sample_users(evalset, data.n_items, max_cells, split.config.seed)


def _histories(data: Dataset, split: Split, *parts: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    return split.matrix(data, *parts, values="ratings"), split.matrix(data, *parts, values="ts")


def tune_all(data: Dataset, split: Split, comp: Components, config: Any, log: Log) -> Tuned:
    """Profile weighting and blend weights of the hybrid (and of its ablations), plus the
    baselines' hyper-parameters, all by validation NDCG@10."""
    from kgrec.ranking.baselines import tune_als, tune_itemknn

    train_m = split.matrix(data, TRAIN)
    # the same sample train() evaluated its components on: dense users x items score matrices must fit
    val = held_out(data, split, VAL, config.eval_max_cells)
    hist_r, hist_t = _histories(data, split, TRAIN)
    objective = lambda s: ndcg_at_k(s, val)  # noqa: E731
    network = network_likes(data, split, TRAIN)
    social = social_scores(network[val.users]) if network is not None else None
    ablation_sets = {**ABLATIONS, **({"hybrid_no_social": (SOCIAL,)} if social is not None else {})}
    best: tuple[float, BlendParams | None, dict[str, np.ndarray] | None] = (-1.0, None, None)
    for half_life in config.half_lives:
        for disliked in config.disliked_weights:
            params = BlendParams(half_life=half_life, disliked_weight=disliked)
            parts = score_histories(comp, params, hist_r[val.users], hist_t[val.users], config.split.positive_rating)
            if social is not None:
                parts[SOCIAL] = social  # what the user's network liked in the training period
            weights, score = tune_weights(parts, objective, fixed={"ease": 1.0}, start=params.weights)
            log(f"  half-life {half_life:g}, disliked x{disliked:g}: val ndcg@10 {score:.4f} {_fmt(weights)}")
            if score > best[0]:
                best = (score, BlendParams(weights=weights, half_life=half_life, disliked_weight=disliked), parts)
    score, params, parts = best
    assert params is not None and parts is not None
    validation = {"hybrid": round(score, 5)}
    ablations: dict[str, dict[str, float]] = {}
    for name, dropped in ablation_sets.items():
        weights, s = tune_weights(parts, objective, fixed={"ease": 1.0, **{d: 0.0 for d in dropped}},
                                  start=params.weights)
        ablations[name] = weights
        validation[name] = round(s, 5)
        log(f"  {name}: val ndcg@10 {s:.4f} {_fmt(weights)}")
    # each single model scored as its test column is (evaluate_directory): its own scorer, not the blend's weighting
    history = val.history[val.users]
    for name, s in (("ease", comp.ease.score(history)),
                    ("lightgcn", comp.lightgcn.score(history, val.liked_of(val.users))),
                    ("pykeen", comp.kge.score(history)), ("popularity", parts["popularity"])):
        validation[name] = round(objective(s), 5)
    log("  item-kNN:")
    knn, knn_params, knn_val = tune_itemknn(train_m, val, log)
    log("  implicit ALS:")
    als, als_params, als_val = tune_als(train_m, val, config.split.seed, config.threads, log)
    validation.update(itemknn=round(knn_val, 5), mf=round(als_val, 5))
    params, excluded = _earned_places(params, parts, objective, validation, ablation_sets, log,
                                      lightgcn_disliked=comp.lightgcn.disliked_weight)
    return Tuned(params, ablations, validation, {"itemknn": knn_params, "mf": als_params},
                 fitted={"itemknn": knn, "mf": als}, excluded=excluded)


def _earned_places(params: BlendParams, parts: dict[str, np.ndarray], objective: Callable[[np.ndarray], float],
                   validation: dict[str, float], ablation_sets: dict[str, tuple[str, ...]],
                   log: Log, lightgcn_disliked: float | None = None) -> tuple[BlendParams, dict[str, Any]]:
    """The published blend: every component whose single ablation is not worse on validation is left out
    (the rest re-tuned without it), and a blend below the best single model on validation is replaced by
    that model alone when it is a component (EASE, LightGCN, PyKEEN, popularity), with the profile weighting
    it was validated with: no recency, every profile item alike, but LightGCN's own weight ``lightgcn_disliked``
    for the items not liked."""
    excluded: dict[str, Any] = {}
    for name, dropped in ablation_sets.items():
        if len(dropped) == 1 and name in validation and validation[name] >= validation["hybrid"]:
            excluded[dropped[0]] = {"reason": f"{name} is not worse on validation",
                                    "val_with": validation["hybrid"], "val_without": validation[name]}
    if excluded:
        weights, s = tune_weights(parts, objective, fixed={"ease": 1.0, **{d: 0.0 for d in excluded}},
                                  start=params.without(excluded).weights)
        log(f"  left out of the published blend: {', '.join(excluded)} (val ndcg@10 {s:.4f} {_fmt(weights)})")
        params = replace(params, weights=weights)
        validation["hybrid"] = round(s, 5)
    singles = {"ease": "ease", "lightgcn": "lightgcn", "pykeen": "kge", "popularity": "popularity",
               "itemknn": None, "mf": None}
    best = max((n for n in singles if n in validation), key=lambda n: validation[n])
    if validation[best] > validation["hybrid"] and singles[best] is not None:
        log(f"  the blend ({validation['hybrid']:.4f}) is below {best} alone ({validation[best]:.4f}) on validation: "
            f"publishing {best} alone")
        excluded["blend"] = {"reason": f"below {best} alone on validation", "val_blend": validation["hybrid"],
                             "val_single": validation[best]}
        # served with the profile weighting it was validated with: its own scorer's, not the blend's
        disliked = lightgcn_disliked if best == "lightgcn" and lightgcn_disliked is not None else 1.0
        params = replace(params, weights={n: (1.0 if n == singles[best] else 0.0) for n in params.weights},
                         half_life=0.0, disliked_weight=disliked)
        validation["hybrid"] = validation[best]
    elif validation[best] > validation["hybrid"]:
        excluded["warning"] = f"{best} (not a blend component) is above the blend on validation"
    return params, excluded


def _fmt(weights: dict[str, float]) -> str:
    return " ".join(f"{k}={v:g}" for k, v in weights.items())


def _validation_of_report(directory: Path) -> dict[str, float]:
    """The validation scores of a version whose manifest predates keeping them: its training report's."""
    from kgrec.ranking.modelstore import REPORT, read_report

    return read_report(directory).get("validation_ndcg@10", {}) if (directory / REPORT).exists() else {}


def evaluate_directory(directory: Path, graph: Graph | None, settings: Settings, tuned: Tuned | None = None,
                       log: Log = lambda m: None) -> dict[str, Any]:
    """The report of one model directory on its own split's test users: every model's metrics,
    the hybrid's ablations, NDCG@k curves and the bootstrap interval of hybrid / best baseline.
    Without ``graph`` the Cypher CF baseline is skipped."""
    from kgrec.ranking.baselines import ALS, cypher_cf_scores, user_cutoffs
    from kgrec.ranking.itemmodels import ItemKNN, Popularity
    from kgrec.ranking.leakage import with_facts
    from kgrec.ranking.modelstore import TUNING_DIR, TUNING_FACTS, load_components, read_manifest

    manifest = read_manifest(directory)
    data = Dataset.load(directory)
    from kgrec.ranking.split import SplitConfig

    split = Split(SplitConfig(**manifest["config"]["split"]), np.load(directory / "split.npy"))
    # held-out metrics come from the tuning run (fitted on the training part, with the facts it could see);
    # the version's own components are the refit on every interaction, and have seen the test period
    tuning = directory / TUNING_DIR
    comp = load_components(tuning if tuning.exists() else directory)
    if (directory / TUNING_FACTS).exists():
        data = with_facts(data, np.load(directory / TUNING_FACTS))
    params = BlendParams(**manifest["blend"])
    positive = float(manifest["positive_rating"])
    train_m = split.matrix(data, TRAIN)
    test = held_out(data, split, TEST, settings.eval_max_cells)
    history = test.history
    hist_r, hist_t = _histories(data, split, TRAIN, VAL)

    if tuned is not None:
        knn, als = tuned.fitted["itemknn"], tuned.fitted["mf"]
        validation = tuned.validation
    else:
        knn = ItemKNN.fit(train_m, **manifest["baselines"]["itemknn"])
        als = ALS.fit(train_m, seed=split.config.seed, threads=settings.train_threads, **manifest["baselines"]["mf"])
        validation = manifest.get("validation") or _validation_of_report(directory)

    parts = score_histories(comp, params, hist_r[test.users], hist_t[test.users], positive)
    network = network_likes(data, split, TRAIN, VAL)
    if network is not None:
        parts[SOCIAL] = social_scores(network[test.users])
    row = {int(u): n for n, u in enumerate(test.users)}
    pick = lambda m: (lambda rows: m[[row[int(r)] for r in rows]])  # noqa: E731 - rows are test users
    scorers: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "hybrid": pick(blend(parts, params.weights)),
        **{name: pick(blend(parts, w)) for name, w in manifest["ablations"].items()},
        "lightgcn": lambda rows: comp.lightgcn.score(history[rows], test.liked_of(rows)),
        "pykeen": lambda rows: comp.kge.score(history[rows]),
        "ease": lambda rows: comp.ease.score(history[rows]),
        "popularity": lambda rows: Popularity(comp.popularity).score(history[rows]),
        "itemknn": lambda rows: knn.score(history[rows]),
        "mf": lambda rows: als.score(history[rows]),
    }
    protocol = manifest.get("protocol", "temporal")
    # the Cypher CF sees each user's ratings up to a time cutoff: only the temporal split is a time cutoff
    if graph is not None and protocol == "temporal":
        log(f"  cypher_cf: querying Neo4j for {len(test.users)} users …")
        cutoffs = user_cutoffs(data, split.mask(TRAIN, VAL))
        cf = cypher_cf_scores(graph, data, test.users, cutoffs, neighbours=CYPHER_CF_NEIGHBOURS)
        scorers["cypher_cf"] = pick(cf)
    results = {name: evaluate(fn, test) for name, fn in scorers.items()}
    models = {name: r.summary() for name, r in results.items()}
    for name, r in models.items():
        log(f"  {name:18s} ndcg@10 {r['ndcg@10']:.4f}  recall@20 {r['recall@20']:.4f}  auc {r['auc']:.4f}")

    present = [b for b in USER_BASELINES if b in models]
    best = max(present, key=lambda b: models[b]["ndcg@10"])
    ndcg = {name: r.per_user["ndcg@10"] for name, r in results.items()}
    headline = bootstrap_ratio(ndcg["hybrid"], ndcg[best], seed=split.config.seed)
    comparison = {
        "best_baseline": best,
        "hybrid_vs_best_baseline": headline,
        "ratios_to_best_baseline": {n: round(models[n]["ndcg@10"] / max(models[best]["ndcg@10"], 1e-12), 4) for n in models},
        # paired (same resampled users): hybrid / every baseline, and hybrid / each ablation, on test
        "hybrid_vs_baselines": {n: bootstrap_ratio(ndcg["hybrid"], ndcg[n], seed=split.config.seed) for n in present},
        "hybrid_vs_ablations": {n: bootstrap_ratio(ndcg["hybrid"], ndcg[n], seed=split.config.seed)
                                for n in ndcg if n.startswith("hybrid_no_")},
        "targets": {
            f"hybrid_ge_{HEADLINE:g}x_best_baseline": models["hybrid"]["ndcg@10"] >= HEADLINE * models[best]["ndcg@10"],
            f"interval_low_ge_{HEADLINE_LOW:g}": headline["ci95_low"] >= HEADLINE_LOW,
            **{f"hybrid_ge_{m}": models["hybrid"]["ndcg@10"] >= models[m]["ndcg@10"] for m in COMPONENT_MODELS},
            "pykeen_carries_weight_test": models["hybrid"]["ndcg@10"] > models["hybrid_no_pykeen"]["ndcg@10"],
            # unknown (None) rather than False when no validation scores were kept
            "pykeen_carries_weight_val": (validation["hybrid"] > validation["hybrid_no_pykeen"]
                                          if {"hybrid", "hybrid_no_pykeen"} <= set(validation) else None),
        },
    }
    return {
        "version": manifest["version"],
        "protocol": protocol,
        "split": {**split.sizes(data), "evaluated_test_users": int(len(test.users))},
        # components the published blend leaves out (ablation not worse on validation), and the two runs
        "excluded_components": manifest.get("excluded_components", {}),
        "runs": manifest.get("runs", {}),
        "models": models,
        "validation_ndcg@10": validation,
        "comparison": comparison,
        "blend": asdict(params),
        "kge_model": manifest.get("kge_model"),
        "ndcg_curve": {name: [round(float(x), 5) for x in r.ndcg_curve] for name, r in results.items()},
    }
