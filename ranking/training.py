"""`kgrec train`: read the graph, split, train every model, tune the blend on validation,
evaluate on test, write a versioned model directory, then publish (embeddings + ModelVersion).

The three steps stay separate so the refresh job can train a candidate, compare its report with
the active version's, and publish only if it is not worse:
``version = train(graph, settings)`` -> ``read_report(...)`` -> ``publish(graph, settings, version)``.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from kgrec.config import Settings
from kgrec.embeddings.kge import INTERACTIONS, KGEConfig
from kgrec.embeddings.lightgcn import LightGCNConfig
from kgrec.graph.connection import Graph
from kgrec.ranking.split import SplitConfig

Log = Callable[[str], None]


@dataclass
class TrainConfig:
    """Every knob of one training run (stored in the manifest); mutable so callers can flip
    ``progress`` or an epoch count before training."""

    split: SplitConfig = field(default_factory=SplitConfig)
    lightgcn: LightGCNConfig = field(default_factory=LightGCNConfig)
    kge: KGEConfig = field(default_factory=KGEConfig)
    kge_candidates: tuple[str, ...] = INTERACTIONS
    kge_select_epochs: int = 3      # short run per candidate; the best on validation trains on
    #: EASE's L2 weights tried on validation (ranking/baselines.py EASE_GRID)
    ease_grid: tuple[float, ...] = (50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0)
    ease_min_count: int = 2
    half_lives: tuple[float, ...] = (0.0, 100.0)  # profile recency options tried on validation
    #: the fold-in weight of a rated-but-not-liked profile item, tried on validation (0: a profile is what the
    #: user liked; on MovieLens' temporal split 0 beats 0.25 by +7% NDCG@10 on test: docs/models.md)
    disliked_weights: tuple[float, ...] = (0.5, 0.25, 0.0)
    threads: int = 2
    #: KGREC_EVAL_MAX_CELLS / KGREC_TRAIN_BUDGET (kgrec/config.py): evaluated users sampled so users x items
    #: stays under the first; PyKEEN epochs capped so epochs x triples stays under the second
    eval_max_cells: int = 100_000_000
    train_budget: int = 10_000_000
    #: KGREC_EASE_DENSE_MAX_ITEMS / KGREC_EASE_NEIGHBOURS: above that many items, sparse EASE (ranking/sparse_items.py)
    ease_dense_max_items: int = 15000
    ease_neighbours: int = 50
    #: a previous version's folder to warm-start from (ranking/warmstart.py); None trains from scratch
    warm_from: str | None = None
    #: with a warm start, LightGCN and PyKEEN train for this share of their epochs
    warm_epochs: float = 0.3
    #: "temporal" (per user by time) or "random" (per user random 80/10/10 on positives, RecBole-style)
    protocol: str = "temporal"
    #: publish components refitted on every interaction (ranking/fitting.py); False publishes the tuning run's
    refit: bool = True
    progress: bool = True

    @classmethod
    def from_settings(cls, settings: Settings, quick: bool = False) -> "TrainConfig":
        """Seeds from KGREC_SEED, epochs scaled by KGREC_TRAIN_EPOCHS_SCALE (``quick``: x0.1 and a
        single KGE candidate, for tests and smoke runs), threads from KGREC_TRAIN_THREADS."""
        if not settings.train_epochs_scale > 0:
            raise ValueError(f"KGREC_TRAIN_EPOCHS_SCALE must be positive, got {settings.train_epochs_scale}")
        scale = settings.train_epochs_scale * (0.1 if quick else 1.0)
        seed = settings.seed
        base = cls()
        lg = replace(base.lightgcn, seed=seed, epochs=max(1, round(base.lightgcn.epochs * scale)))
        kg = replace(base.kge, seed=seed, epochs=max(1, round(base.kge.epochs * scale)))
        return replace(base, split=replace(base.split, seed=seed), lightgcn=lg, kge=kg,
                       kge_candidates=(base.kge.model,) if quick else base.kge_candidates,
                       kge_select_epochs=max(1, round(base.kge_select_epochs * scale)),
                       half_lives=(0.0,) if quick else base.half_lives,
                       threads=settings.train_threads, eval_max_cells=settings.eval_max_cells,
                       train_budget=settings.train_budget, ease_dense_max_items=settings.ease_dense_max_items,
                       ease_neighbours=settings.ease_neighbours)

    def describe(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("progress")
        return d


def _stage(log: Log, message: str) -> float:
    log(message)
    return time.perf_counter()


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _bar(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    # disable=None: bars only when stderr is a terminal, never thousands of lines in a log file
    return tqdm(total=total, desc=desc, unit="epoch", disable=not enabled or None, file=sys.stderr, leave=False)


def train(graph: Graph, settings: Settings, config: TrainConfig | None = None, log: Log = _stderr) -> str:
    """Train every model on the graph's current data and write ``models_dir/<version>/`` (with its
    evaluation report). Nothing in Neo4j changes: see :func:`publish`. Returns the version id."""
    import torch

    from kgrec.embeddings.kge import use_pystow_home
    from kgrec.ranking import evaluation
    from kgrec.catalogue.store import active as active_catalogue
    from kgrec.ranking.fitting import fit_components, lightgcn_rows
    from kgrec.ranking.graphdata import load_dataset, load_tag_sources
    from kgrec.ranking.leakage import training_facts, with_facts
    from kgrec.ranking.modelstore import (TUNING_DIR, TUNING_FACTS, new_version_id, save_components, version_dir,
                                          write_manifest)
    from kgrec.ranking.sparse_items import kind as item_model_kind
    from kgrec.ranking.split import RANDOM_SHARES, TEST, TRAIN, VAL, Split

    config = config or TrainConfig.from_settings(settings)
    use_pystow_home(settings.pystow_home)
    torch.set_num_threads(config.threads)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    t = _stage(log, "reading interactions and knowledge-graph facts from Neo4j …")
    catalogue = active_catalogue(graph)
    # a positive is what the catalogue's signal model calls one (a 4★ rating, a play, a purchase)
    config = replace(config, split=replace(config.split, positive_rating=catalogue.signals.positive))
    data = load_dataset(graph, catalogue=catalogue)
    timings["load"] = time.perf_counter() - t
    if config.protocol == "random":
        config = replace(config, split=replace(config.split, val_share=RANDOM_SHARES[0], test_share=RANDOM_SHARES[1]))
    split = Split.make(data, config.split, config.protocol)
    log(f"  {data.n_users} users, {data.n_items} items, {len(data.users)} interactions, {len(data.fact_items)} facts "
        f"({data.n_attrs} attributes); split {json.dumps({k: v for k, v in split.sizes(data).items() if k.endswith('interactions')})}")
    train_m = split.matrix(data, TRAIN)
    val = evaluation.held_out(data, split, VAL, config.eval_max_cells)
    if len(val.users) == 0:
        raise ValueError("no validation positives: too few ratings (or none >= "
                         f"{config.split.positive_rating}) to tune anything")

    keep = training_facts(data, split, load_tag_sources(graph, catalogue))
    data_tune = with_facts(data, keep)
    log(f"  facts the evaluated run may use: {int(keep.sum())} of {len(keep)} (tags applied in held-out periods, "
        "and the entities read from them, left out)")
    warm = _warm_start(config, data, log, tuning=True)
    t = _stage(log, "tuning run: every component on the training part, hyper-parameters on validation …")
    likes = split.mask(TRAIN) & (data.ratings >= config.split.positive_rating)
    bar = lambda total, desc: _bar(total, desc, config.progress)  # noqa: E731
    tuning = fit_components(data_tune, train_m, likes, config, log, val=val, warm=warm, bar=bar)
    components = tuning.components
    timings.update({f"tuning_{k}": v for k, v in tuning.info["timings_s"].items()})
    t = _stage(log, "tuning the blend and fitting the baselines on validation …")
    tuned = evaluation.tune_all(data_tune, split, components, config, log)
    tuned.baseline_params["ease"] = {"l2": tuning.choices.ease_l2}
    timings["tuning_blend"] = time.perf_counter() - t

    version = new_version_id()
    directory = version_dir(settings.models_dir, version)
    tmp = directory.with_name(directory.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    data.save(tmp)
    np.save(tmp / "split.npy", split.part)
    np.save(tmp / TUNING_FACTS, keep)
    save_components(tmp / TUNING_DIR, components)
    extra = {
        "config": config.describe(), "protocol": config.protocol, "item_model": item_model_kind(components.ease),
        "catalogue": catalogue.name, "kge_model": tuning.choices.kge_model,
        "kge_selection_val_ndcg@10": tuning.info["kge_selection_val_ndcg@10"],
        "ablations": {k: v for k, v in tuned.ablations.items()}, "baselines": tuned.baseline_params,
        "validation": tuned.validation,  # what `kgrec evaluate --recompute` reports beside the test metrics
        "excluded_components": tuned.excluded,
        "runs": {"tuning": {"interactions": int(train_m.nnz), "facts": int(keep.sum()), "choices": asdict(tuning.choices),
                            "lightgcn": tuning.info["lightgcn"], "directory": TUNING_DIR}},
        "warm_start": None if warm is None else {
            "from": warm.version, "epochs_share": config.warm_epochs,
            "lightgcn_rows_inherited": warm.lightgcn.inherited,
            "kge_rows_inherited": warm.kge_entities.inherited if not tuning.info["kge_selection_val_ndcg@10"] else 0},
    }
    write_manifest(tmp, version, tuned.params, config.split.positive_rating, extra)
    t = _stage(log, "evaluating every model on the test users …")
    report = evaluation.evaluate_directory(tmp, graph, settings, tuned=tuned, log=log)
    timings["evaluation"] = time.perf_counter() - t
    published, emb_matrix = components, train_m
    if config.refit:
        everything = split.matrix(data, TRAIN, VAL, TEST)
        choices = tuning.choices.scaled(int(train_m.nnz), int(everything.nnz),
                                        (int(train_m.nnz) + tuning.info["lightgcn"]["attribute_links_per_epoch"],
                                         lightgcn_rows(data, int(everything.nnz), config)))
        t = _stage(log, f"refit on all {everything.nnz} interactions with the tuning run's choices {asdict(choices)} …")
        refit = fit_components(data, everything, data.ratings >= config.split.positive_rating, config, log,
                               choices=choices, warm=_warm_start(config, data, log), bar=bar)
        published, emb_matrix = refit.components, everything
        extra["runs"]["refit"] = {"interactions": int(everything.nnz), "facts": len(data.fact_items),
                                  "choices": asdict(choices), "lightgcn": refit.info["lightgcn"],
                                  "epochs": "tuning run's x training / all positives per epoch (same optimiser steps; "
                                            "LightGCN's include its item-attribute links)"}
        timings["refit"] = time.perf_counter() - t
    else:
        extra["runs"]["published"] = "tuning"
    save_components(tmp, published)
    np.save(tmp / "item_embeddings.npy", published_embeddings(published, emb_matrix))
    write_manifest(tmp, version, tuned.params, config.split.positive_rating, extra)
    timings["total"] = time.perf_counter() - started
    report["runs"] = extra["runs"]
    report["timings_s"] = {k: round(v, 1) for k, v in timings.items()}
    from kgrec.ranking.modelstore import write_report
    write_report(tmp, report)
    tmp.rename(directory)
    log(f"model version {version} written to {directory} in {timings['total']:.0f} s")
    return version


def _warm_start(config: TrainConfig, data: Any, log: Log, tuning: bool = False) -> Any:
    """The previous version's embeddings for this run's dataset, or None (no warm start asked, or the
    previous version cannot be read: then everything trains from scratch, and the log says why).
    ``tuning``: for the tuning run, from the previous version's tuning run where it kept one."""
    if not config.warm_from:
        return None
    from kgrec.ranking.modelstore import TUNING_DIR
    from kgrec.ranking.warmstart import WarmStart

    part = TUNING_DIR if tuning and (Path(config.warm_from) / TUNING_DIR).exists() else ""
    try:
        warm = WarmStart.load(Path(config.warm_from), data, part)
    except (OSError, KeyError, ValueError) as exc:
        log(f"  no warm start from {config.warm_from} ({exc}): training from scratch")
        return None
    log(f"  warm start from version {warm.version}: {warm.lightgcn.inherited} LightGCN and "
        f"{warm.kge_entities.inherited} PyKEEN rows inherited, {config.warm_epochs:.0%} of the epochs")
    return warm


def published_embeddings(comp, train_m) -> np.ndarray:
    """The item vectors written to Neo4j for "similar items": the L2-normalised LightGCN vector
    (items with training interactions only; for others it is noise) beside the L2-normalised
    PyKEEN vector (real and imaginary parts), the whole row normalised; cosine on it averages the
    collaborative and the knowledge-graph similarity. Items neither model knows get a zero row."""
    seen = np.asarray((train_m > 0).sum(0)).ravel() > 0
    lg = _unit(comp.lightgcn.item_emb) * seen[:, None]
    ke = comp.kge.item_emb
    ke = np.concatenate([ke.real, ke.imag], 1) if np.iscomplexobj(ke) else ke
    ke = _unit(ke.astype(np.float32)) * comp.kge.item_known[:, None]
    return _unit(np.concatenate([lg, ke], 1).astype(np.float32))


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return np.where(n > 0, x / np.maximum(n, 1e-12), 0).astype(np.float32)


def publish(graph: Graph, settings: Settings, version: str, log: Log = _stderr) -> None:
    """Write the version's item embeddings to Neo4j (``Item.embedding`` + the ``item_embedding``
    vector index), record its ``(:ModelVersion)`` and make it the only active one.

    The vectors are first staged in batches of EMBEDDING_BATCH items (``Item.staged_embedding``, which no
    reader reads: a 100k-item catalogue is never one huge message or transaction from here); then the
    switch (staged -> ``Item.embedding``, copied inside Neo4j), the removal of stale ones, the version node
    and the activation are ONE write transaction, so a reader sees either the old version with its vectors
    or the new one with its vectors, never a mix (the vector index is updated by that same commit). Only
    the index DDL, which cannot share a transaction with data, runs before it, and is a no-op while the
    dimension is unchanged."""
    from kgrec.ranking.dataset import Dataset
    from kgrec.ranking.modelstore import open_store, read_manifest, read_report, version_dir

    directory = version_dir(settings.models_dir, version)
    read_manifest(directory)
    data = Dataset.load(directory)
    emb = np.load(directory / "item_embeddings.npy")
    report = read_report(directory)
    ensure_vector_index(graph, emb.shape[1])
    graph.write("models/clear_staged_embeddings", version=version)  # left by a publish that died half-way
    staged = 0
    for lo in range(0, len(emb), EMBEDDING_BATCH):
        rows = [{"id": int(i), "embedding": v.tolist()}
                for i, v in zip(data.item_ids[lo:lo + EMBEDDING_BATCH], emb[lo:lo + EMBEDDING_BATCH]) if v.any()]
        if rows:
            graph.write("models/stage_item_embeddings", rows=rows, version=version)
            staged += len(rows)
    results = graph.write_together([
        ("models/set_item_embeddings", {"version": version}),
        ("models/clear_stale_embeddings", {"version": version}),
        ("models/create_version", {"id": version, "created": datetime.now(timezone.utc).isoformat(),
                                   "metrics": json.dumps(summary_metrics(report)),
                                   "key": open_store(settings).key(version)}),
        ("models/activate_version", {"id": version}),
    ])
    if not results[-1]:
        raise KeyError(f"no ModelVersion {version!r} in the graph")  # cannot happen: created just above
    log(f"published {version}: {staged} item embeddings, vector index {VECTOR_INDEX}, active")


VECTOR_INDEX = "item_embedding"
#: items per staging transaction of publish (1000 x 192 floats: ~1.5 MB a message)
EMBEDDING_BATCH = 1000


def ensure_vector_index(graph: Graph, dimensions: int) -> None:
    """(Re)create the vector index when it is missing or its dimension changed."""
    from kgrec.graph import cypher

    rows = graph.read("models/vector_index_info", index=VECTOR_INDEX)
    if rows and int(rows[0]["dimensions"] or 0) == dimensions:
        return
    if rows:
        graph.write("models/drop_vector_index")
    graph.write("models/create_vector_index", dimensions=int(dimensions))
    graph.run_statements([cypher.load("models/await_indexes")])


def summary_metrics(report: dict[str, Any]) -> dict[str, Any]:
    """What the ModelVersion node keeps: every model's test metrics and the headline comparison."""
    return {"models": report.get("models", {}), "comparison": report.get("comparison", {}),
            "split": report.get("split", {})}


def activate(graph: Graph, version: str) -> None:
    rows = graph.write("models/activate_version", id=version)
    if not rows:
        raise KeyError(f"no ModelVersion {version!r} in the graph")


def train_and_publish(graph: Graph, settings: Settings, config: TrainConfig | None = None, log: Log = _stderr) -> str:
    """Train every model, then publish and activate the new version; returns its id."""
    version = train(graph, settings, config, log)
    publish(graph, settings, version, log)
    return version
