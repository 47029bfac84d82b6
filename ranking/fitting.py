"""Fitting the blend's trained components, once per run of `kgrec train`:

* the **tuning run** fits them on the training part, choosing hyper-parameters on validation (EASE's L2,
  LightGCN's epochs by early stopping, PyKEEN's interaction model); every held-out number comes from it;
* the **refit** fits them again on *every* interaction with those choices, and is what gets published. Its
  epochs are the tuning run's scaled to the data: the same number of optimiser steps (epochs x training
  interactions / all interactions; Goodfellow et al. 2016, Deep Learning §7.8, algorithm 7.2), since each
  epoch over more data takes proportionally more steps at the same batch size. LightGCN's epoch also
  holds its item-attribute links, so its scale is its own positives per epoch.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from kgrec.ranking.dataset import Dataset
from kgrec.ranking.metrics import EvalSet

Log = Callable[[str], None]


@dataclass(frozen=True)
class Choices:
    """What the tuning run chose on validation and the refit reuses."""

    ease_l2: float
    lightgcn_epochs: int
    kge_model: str
    kge_epochs: int
    #: epochs after which the tuning run's LightGCN halved its learning rate (no new best on validation)
    lightgcn_lr_drops: tuple[int, ...] = ()
    #: LightGCN's scorer settings (fold-in degree power, target norm power, disliked items' fold-in weight)
    #: chosen on validation
    lightgcn_fold: tuple[float, float, float] = (0.0, 0.0, 1.0)

    def scaled(self, tuning_rows: int, all_rows: int,
               lightgcn_rows: tuple[int, int] | None = None) -> "Choices":
        """Epochs for the refit: the same optimiser steps over ``all_rows`` as over ``tuning_rows``.
        ``lightgcn_rows``: LightGCN's own (tuning, refit) positives per epoch where they differ (its
        item-attribute links beside the interactions)."""
        share = tuning_rows / max(all_rows, 1)
        lg = lightgcn_rows[0] / max(lightgcn_rows[1], 1) if lightgcn_rows is not None else share
        return replace(self, lightgcn_epochs=max(1, round(self.lightgcn_epochs * lg)),
                       lightgcn_lr_drops=tuple(max(1, round(d * lg)) for d in self.lightgcn_lr_drops),
                       kge_epochs=max(1, round(self.kge_epochs * share)))


@dataclass
class Fitted:
    components: Any  # kgrec.ranking.hybrid.Components
    choices: Choices
    info: dict[str, Any] = field(default_factory=dict)  # validation scores, LightGCN history, timings


@dataclass
class FitContext:
    """What every term's fit reads: the interactions and facts to fit on, the validation users (tuning run)
    or the tuning run's choices (refit), and what the terms fitted before it chose (``chosen``)."""

    data: Dataset
    interactions: sp.csr_matrix
    likes: np.ndarray
    config: Any
    log: Log
    val: EvalSet | None
    choices: Choices | None
    warm: Any
    bar: Callable[[int, str], Any]
    chosen: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=lambda: {"timings_s": {}})


def fit_components(data: Dataset, interactions: sp.csr_matrix, likes: np.ndarray, config: Any, log: Log,
                   val: EvalSet | None = None, choices: Choices | None = None, warm: Any = None,
                   bar: Callable[[int, str], Any] | None = None) -> Fitted:
    """Every blend term (ranking/components.py TERMS, by name through FITTERS) on ``interactions`` (users x
    items) and ``data``'s facts; ``likes`` marks the interactions PyKEEN's ``likes`` relation is built from.

    With ``val`` (the tuning run) hyper-parameters are chosen on it; otherwise ``choices`` (the refit) gives
    them. ``warm``: a previous version's embeddings (ranking/warmstart.py) to continue from."""
    import contextlib

    from kgrec.ranking.components import TERMS
    from kgrec.ranking.hybrid import Components

    if val is None and choices is None:
        raise ValueError("fit_components needs validation users (tuning run) or choices (refit)")
    ctx = FitContext(data, interactions, likes, config, log, val, choices, warm,
                     bar or (lambda total, desc: contextlib.nullcontext(None)))
    terms: dict[str, Any] = {}
    for name, term in TERMS.items():
        t = time.perf_counter()
        terms[name] = term.fit(ctx)
        ctx.info["timings_s"][name] = time.perf_counter() - t
    return Fitted(Components.from_terms(terms), Choices(**ctx.chosen), ctx.info)


def _fit_ease(ctx: FitContext) -> Any:
    """EASE (dense, or sparse on large catalogues): L2 chosen on validation, or the tuning run's."""
    from kgrec.ranking.sparse_items import fit_item_model, tune_item_model

    config = ctx.config
    if ctx.val is not None:
        grid = tuple(config.ease_grid)
        ease, params, score = tune_item_model(ctx.interactions, ctx.val, config.ease_min_count, grid, config, ctx.log)
        for _ in range(2):  # the best at an end of the grid: the grid goes on that way (x1/4, x1/2 or x2, x4)
            l2 = float(params["l2"])
            extra = (l2 / 4, l2 / 2) if l2 == min(grid) else (l2 * 2, l2 * 4) if l2 == max(grid) else ()
            if not extra:
                break
            grid += extra
            more = tune_item_model(ctx.interactions, ctx.val, config.ease_min_count, extra, config, ctx.log)
            if more[2] <= score:
                break
            ease, params, score = more
        ctx.chosen["ease_l2"] = float(params["l2"])
        ctx.info["ease_val_ndcg@10"] = round(score, 5)
        ctx.log(f"  EASE L2 {params['l2']:g}: val ndcg@10 {score:.4f}")
        return ease
    ctx.chosen["ease_l2"] = ctx.choices.ease_l2
    return fit_item_model(ctx.interactions, ctx.choices.ease_l2, config.ease_min_count, config)


def _fit_popularity(ctx: FitContext) -> np.ndarray:
    from kgrec.ranking.itemmodels import Popularity

    return Popularity.fit(ctx.interactions).counts


def _fit_kgattr(ctx: FitContext) -> Any:
    from kgrec.ranking.kgterm import AttributeModel

    d = ctx.data
    return AttributeModel.fit(d.n_items, d.n_attrs, d.fact_items, d.fact_attrs)


def _fit_lightgcn(ctx: FitContext) -> Any:
    """LightGCN, early-stopped on validation, or for the tuning run's (scaled) epochs and rate schedule.
    It is bounded by its own time budget (LightGCNConfig.time_budget_s), not by rows seen: a cap of
    train_budget rows would stop it at ~140 epochs on MovieLens, far from converged."""
    from kgrec.embeddings.lightgcn import SCORER_SETTINGS, train_lightgcn
    from kgrec.ranking.metrics import ndcg_at_k

    config, val, warm = ctx.config, ctx.val, ctx.warm
    lg_config, lg_init = config.lightgcn, None
    if ctx.choices is not None:
        lg_config = replace(lg_config, epochs=ctx.choices.lightgcn_epochs, lr_drops=ctx.choices.lightgcn_lr_drops,
                            **dict(zip(SCORER_SETTINGS, ctx.choices.lightgcn_fold)))
    if warm is not None and warm.lightgcn.values.shape[1] == lg_config.dim:
        lg_config = replace(lg_config, epochs=max(1, round(lg_config.epochs * config.warm_epochs)))
        lg_init = (warm.lightgcn.values, warm.lightgcn.mask)
    validate = None
    if val is not None:
        checks = [0]

        def validate(model: Any) -> float:
            score = ndcg_at_k(model.score(val.history[val.users], val.liked_of(val.users)), val)
            if model.query_scale is not None:  # the scorer grid after training: in the history, not the log
                return score
            checks[0] += 1
            if checks[0] % 5 == 0:  # every 5th check: the curve in the log without a line per check
                ctx.log(f"    LightGCN check {checks[0]} (~epoch {checks[0] * lg_config.eval_every}): val ndcg@10 {score:.4f}")
            return score
    what = "early stopping on validation, at most" if validate else "refit,"
    ctx.log(f"  LightGCN ({what} {lg_config.epochs} epochs, lr {lg_config.lr:g}{', warm' if lg_init else ''}) …")
    with ctx.bar(lg_config.epochs, "LightGCN") as b:
        def progress(epoch: int, loss: float) -> None:
            if b is not None:
                b.update(1)
                b.set_postfix(loss=f"{loss:.4f}")
        model = train_lightgcn(ctx.interactions, lg_config, progress, lg_init, validate,
                               attribute_links(ctx.data) if lg_config.attributes else None)
    ctx.info["lightgcn"] = model.history
    ctx.chosen.update(lightgcn_epochs=int(model.history["best_epoch"]),
                      lightgcn_lr_drops=tuple(model.history["lr_drops"]),
                      lightgcn_fold=tuple(model.history[name] for name in SCORER_SETTINGS))
    ctx.log(f"  LightGCN: {model.history}")
    return model


def lightgcn_rows(data: Dataset, interactions: int, config: Any) -> int:
    """LightGCN's positives per epoch: the interactions plus its share of the item-attribute links."""
    lg = config.lightgcn
    return interactions + (int(round(lg.kg_share * attribute_links(data).nnz)) if lg.attributes else 0)


def attribute_links(data: Dataset) -> sp.csr_matrix:
    """Items x attribute nodes (1 = linked) from the facts of the fitted period, for the attributes that link
    two items or more: LightGCN's attribute nodes are the attribute term's (ranking/kgterm.py)."""
    from kgrec.ranking.kgterm import fact_links

    m = fact_links(data.n_items, data.n_attrs, data.fact_items, data.fact_attrs)
    return m[:, np.flatnonzero(np.diff(m.tocsc().indptr) >= 2)].tocsr()


def _fit_kge(ctx: FitContext) -> Any:
    """PyKEEN: the interaction model chosen on a short run per candidate, then trained on; or the tuning
    run's model for its (scaled) epochs; a warm start continues the previous version's model."""
    from kgrec.embeddings.kge import KGETrainer, Triples
    from kgrec.ranking.metrics import ndcg_at_k
    from kgrec.ranking.scale import budget_epochs

    config, data, val, warm, choices, log = ctx.config, ctx.data, ctx.val, ctx.warm, ctx.choices, ctx.log
    likes = ctx.likes
    triples = Triples.build(data.users[likes], data.items[likes], data.fact_items, data.fact_relations,
                            data.fact_attrs, data.relations, data.n_items, data.n_attrs, data.n_users,
                            config.kge.min_attr_items)
    kge_epochs = choices.kge_epochs if choices is not None else budget_epochs(
        config.kge.epochs, len(triples.heads), config.train_budget)
    select_epochs = min(config.kge_select_epochs, kge_epochs)
    kge_val: dict[str, float] = {}

    def run(trainer: Any, epochs: int, name: str) -> None:
        with ctx.bar(epochs, f"PyKEEN {name}") as b:
            trainer.train(epochs, None if b is None else
                          (lambda e, loss: (b.update(1), b.set_postfix(loss=f"{loss:.4f}"))))

    if warm is not None and warm.kge_entities.values.shape[1] == config.kge.dim:
        # the interaction model the previous run chose on validation, from its embeddings
        kge_name = warm.kge_model if choices is None else choices.kge_model
        epochs = max(1, round(kge_epochs * config.warm_epochs))
        log(f"  PyKEEN {kge_name} ({epochs} epochs, warm) …")
        trainer = KGETrainer(triples, replace(config.kge, model=kge_name),
                             (warm.kge_entities.values, warm.kge_entities.mask, warm.kge_relations))
        run(trainer, epochs, kge_name)
    elif choices is not None:
        kge_name = choices.kge_model
        log(f"  PyKEEN {kge_name} (refit, {kge_epochs} epochs) …")
        trainer = KGETrainer(triples, replace(config.kge, model=kge_name))
        run(trainer, kge_epochs, kge_name)
    else:
        log(f"  PyKEEN: choosing among {', '.join(config.kge_candidates)} on validation …")
        best: tuple[float, Any, str] = (-1.0, None, "")
        for name in config.kge_candidates:
            trainer = KGETrainer(triples, replace(config.kge, model=name))
            run(trainer, select_epochs, name)
            score = ndcg_at_k(trainer.export().score(val.history[val.users]), val)
            kge_val[name] = round(score, 5)
            log(f"  {name}: val ndcg@10 {score:.4f} after {select_epochs} epochs")
            if score > best[0]:
                best = (score, trainer, name)
        trainer, kge_name = best[1], best[2]
        run(trainer, kge_epochs - trainer.epochs_done, kge_name)
    kge = trainer.export()
    ctx.info["kge_selection_val_ndcg@10"] = kge_val
    if val is not None:
        log(f"  PyKEEN {kge_name} ({trainer.epochs_done} epochs) val ndcg@10 "
            f"{ndcg_at_k(kge.score(val.history[val.users]), val):.4f}")
    ctx.chosen.update(kge_model=kge_name, kge_epochs=int(trainer.epochs_done))
    return kge


#: how each blend term (ranking/components.py TERMS) is fitted, by name
FITTERS: dict[str, Callable[[FitContext], Any]] = {
    "ease": _fit_ease, "lightgcn": _fit_lightgcn, "kge": _fit_kge, "kgattr": _fit_kgattr,
    "popularity": _fit_popularity,
}


def describe(choices: Choices) -> dict[str, Any]:
    return asdict(choices)
