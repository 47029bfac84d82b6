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
    ease_l2: float = 300.0
    ease_min_count: int = 2
    half_lives: tuple[float, ...] = (0.0, 100.0)  # profile recency options tried on validation
    disliked_weights: tuple[float, ...] = (0.5, 0.25)
    threads: int = 2
    #: KGREC_EVAL_MAX_CELLS / KGREC_TRAIN_BUDGET (kgrec/config.py): evaluated users sampled so users x items
    #: stays under the first; LightGCN and PyKEEN epochs capped so epochs x rows stays under the second
    eval_max_cells: int = 100_000_000
    train_budget: int = 10_000_000
    #: KGREC_EASE_DENSE_MAX_ITEMS / KGREC_EASE_NEIGHBOURS: above that many items, sparse EASE (ranking/sparse_items.py)
    ease_dense_max_items: int = 15000
    ease_neighbours: int = 50
    #: a previous version's folder to warm-start from (ranking/warmstart.py); None trains from scratch
    warm_from: str | None = None
    #: with a warm start, LightGCN and PyKEEN train for this share of their epochs
    warm_epochs: float = 0.3
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

    from kgrec.embeddings.kge import KGETrainer, Triples, use_pystow_home
    from kgrec.embeddings.lightgcn import train_lightgcn
    from kgrec.ranking import evaluation
    from kgrec.catalogue.store import active as active_catalogue
    from kgrec.ranking.graphdata import load_dataset
    from kgrec.ranking.hybrid import Components
    from kgrec.ranking.itemmodels import Popularity
    from kgrec.ranking.kgterm import AttributeModel
    from kgrec.ranking.metrics import EvalSet, ndcg_at_k
    from kgrec.ranking.modelstore import new_version_id, save_components, version_dir, write_manifest
    from kgrec.ranking.scale import budget_epochs, sample_users
    from kgrec.ranking.sparse_items import fit_item_model, kind as item_model_kind
    from kgrec.ranking.split import TRAIN, VAL, Split

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
    split = Split.temporal(data, config.split)
    log(f"  {data.n_users} users, {data.n_items} items, {len(data.users)} interactions, {len(data.fact_items)} facts "
        f"({data.n_attrs} attributes); split {json.dumps({k: v for k, v in split.sizes(data).items() if k.endswith('interactions')})}")
    train_m = split.matrix(data, TRAIN)
    val = sample_users(EvalSet.build(train_m, split.targets(data, VAL)), data.n_items, config.eval_max_cells,
                       config.split.seed)
    if len(val.users) == 0:
        raise ValueError("no validation positives: too few ratings (or none >= "
                         f"{config.split.positive_rating}) to tune anything")

    t = _stage(log, "EASE, popularity, KG attribute term …")
    ease = fit_item_model(train_m, config.ease_l2, config.ease_min_count, config)  # sparse above the threshold
    popularity = Popularity.fit(train_m).counts
    kgattr = AttributeModel.fit(data.n_items, data.n_attrs, data.fact_items, data.fact_attrs)
    timings["ease_kgattr"] = time.perf_counter() - t

    warm = _warm_start(config, data, log)
    config = replace(config, lightgcn=replace(config.lightgcn, epochs=budget_epochs(
        config.lightgcn.epochs, train_m.nnz, config.train_budget)))  # large catalogues: fewer epochs
    lg_config = config.lightgcn
    lg_init = None
    if warm is not None and warm.lightgcn.values.shape[1] == lg_config.dim:
        lg_config = replace(lg_config, epochs=max(1, round(lg_config.epochs * config.warm_epochs)))
        lg_init = (warm.lightgcn.values, warm.lightgcn.mask)
    t = _stage(log, f"LightGCN ({lg_config.epochs} epochs{', warm' if lg_init else ''}) …")
    with _bar(lg_config.epochs, "LightGCN", config.progress) as bar:
        def lg_progress(epoch: int, loss: float) -> None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.4f}")
        lightgcn = train_lightgcn(train_m, lg_config, lg_progress, lg_init)
    timings["lightgcn"] = time.perf_counter() - t
    log(f"  LightGCN val ndcg@10 {ndcg_at_k(lightgcn.score(val.history[val.users]), val):.4f}")

    likes = split.mask(TRAIN) & (data.ratings >= config.split.positive_rating)
    triples = Triples.build(data.users[likes], data.items[likes], data.fact_items, data.fact_relations,
                            data.fact_attrs, data.relations, data.n_items, data.n_attrs, data.n_users,
                            config.kge.min_attr_items)
    kge_epochs = budget_epochs(config.kge.epochs, len(triples.heads), config.train_budget)
    config = replace(config, kge=replace(config.kge, epochs=kge_epochs),
                     kge_select_epochs=min(config.kge_select_epochs, kge_epochs))
    kge_val: dict[str, float] = {}
    if warm is not None and warm.kge_entities.values.shape[1] == config.kge.dim:
        # the interaction model the previous run chose on validation, from its embeddings
        kge_name = warm.kge_model
        epochs = max(1, round(config.kge.epochs * config.warm_epochs))
        t = _stage(log, f"PyKEEN {kge_name} ({epochs} epochs, warm) …")
        trainer = KGETrainer(triples, replace(config.kge, model=kge_name),
                             (warm.kge_entities.values, warm.kge_entities.mask, warm.kge_relations))
        with _bar(epochs, f"PyKEEN {kge_name}", config.progress) as bar:
            trainer.train(epochs, lambda e, loss: (bar.update(1), bar.set_postfix(loss=f"{loss:.4f}")))
    else:
        t = _stage(log, f"PyKEEN: choosing among {', '.join(config.kge_candidates)} on validation …")
        best: tuple[float, Any, str] = (-1.0, None, "")
        for name in config.kge_candidates:
            trainer = KGETrainer(triples, replace(config.kge, model=name))
            epochs = min(config.kge_select_epochs, config.kge.epochs)
            with _bar(epochs, f"PyKEEN {name}", config.progress) as bar:
                trainer.train(epochs, lambda e, loss: (bar.update(1), bar.set_postfix(loss=f"{loss:.4f}")))
            score = ndcg_at_k(trainer.export().score(val.history[val.users]), val)
            kge_val[name] = round(score, 5)
            log(f"  {name}: val ndcg@10 {score:.4f} after {epochs} epochs")
            if score > best[0]:
                best = (score, trainer, name)
        trainer, kge_name = best[1], best[2]
        rest = config.kge.epochs - trainer.epochs_done
        with _bar(rest, f"PyKEEN {kge_name}", config.progress) as bar:
            trainer.train(rest, lambda e, loss: (bar.update(1), bar.set_postfix(loss=f"{loss:.4f}")))
    kge = trainer.export()
    timings["pykeen"] = time.perf_counter() - t
    log(f"  PyKEEN {kge_name} ({trainer.epochs_done} epochs) val ndcg@10 {ndcg_at_k(kge.score(val.history[val.users]), val):.4f}")

    components = Components(ease, lightgcn, kge, kgattr, popularity)
    t = _stage(log, "tuning the blend and fitting the baselines on validation …")
    tuned = evaluation.tune_all(data, split, components, config, log)
    timings["tuning"] = time.perf_counter() - t

    version = new_version_id()
    directory = version_dir(settings.models_dir, version)
    tmp = directory.with_name(directory.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    data.save(tmp)
    np.save(tmp / "split.npy", split.part)
    save_components(tmp, components)
    np.save(tmp / "item_embeddings.npy", published_embeddings(components, train_m))
    write_manifest(tmp, version, tuned.params, config.split.positive_rating, {
        "config": config.describe(), "item_model": item_model_kind(ease), "catalogue": catalogue.name, "kge_model": kge_name, "kge_selection_val_ndcg@10": kge_val,
        "ablations": {k: v for k, v in tuned.ablations.items()}, "baselines": tuned.baseline_params,
        "validation": tuned.validation,  # what `kgrec evaluate --recompute` reports beside the test metrics
        "warm_start": None if warm is None else {
            "from": warm.version, "epochs_share": config.warm_epochs,
            "lightgcn_rows_inherited": warm.lightgcn.inherited if lg_init else 0,
            "kge_rows_inherited": warm.kge_entities.inherited if not kge_val else 0},
    })
    t = _stage(log, "evaluating every model on the test users …")
    report = evaluation.evaluate_directory(tmp, graph, settings, tuned=tuned, log=log)
    timings["evaluation"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - started
    report["timings_s"] = {k: round(v, 1) for k, v in timings.items()}
    from kgrec.ranking.modelstore import write_report
    write_report(tmp, report)
    tmp.rename(directory)
    log(f"model version {version} written to {directory} in {timings['total']:.0f} s")
    return version


def _warm_start(config: TrainConfig, data: Any, log: Log) -> Any:
    """The previous version's embeddings for this run's dataset, or None (no warm start asked, or the
    previous version cannot be read: then everything trains from scratch, and the log says why)."""
    if not config.warm_from:
        return None
    from kgrec.ranking.warmstart import WarmStart

    try:
        warm = WarmStart.load(Path(config.warm_from), data)
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
