"""Warm start: a new training run begins from the previous version's embeddings instead of from noise.

The refresh job retrains on yesterday's data plus today's few changes, so most users, items and
attributes are the same ones the active version already embedded. Their rows start where that version
left them (matched by external id / attribute key; new ones keep their fresh initialisation), the
PyKEEN interaction model is the one the previous run chose on validation (no candidate search), and each
model trains for a fraction of its epochs. EASE, the attribute term and the baselines are closed-form or
cheap and are fitted from scratch either way. ``kgrec refresh --full`` trains everything from scratch.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kgrec.ranking.dataset import Dataset
from kgrec.embeddings.kge import KGEModel
from kgrec.ranking.modelstore import load_lightgcn, read_manifest


@dataclass(frozen=True)
class Rows:
    """Initial values for some rows of an embedding table: ``values[mask]`` are inherited."""

    values: np.ndarray
    mask: np.ndarray

    @property
    def inherited(self) -> int:
        return int(self.mask.sum())


@dataclass(frozen=True)
class WarmStart:
    version: str
    kge_model: str
    lightgcn: Rows            # (n_users + n_items, dim): users first, as the LightGCN graph numbers nodes
    kge_entities: Rows        # (n_items + n_attrs + n_users, dim): as Triples numbers entities
    kge_relations: dict[str, np.ndarray]

    @classmethod
    def load(cls, previous: Path, data: Dataset, part: str = "") -> "WarmStart":
        """The previous version's embeddings laid out for ``data`` (the new run's dataset). ``part``: a
        subfolder of the version holding other components, e.g. its tuning run's (what a tuning run continues
        from: the version's own refit has seen periods the new run holds out)."""
        manifest = read_manifest(previous)
        old = Dataset.load(previous)
        # only the embeddings: the rest of a version (EASE's item x item matrix above all) is not needed
        lg, kge = load_lightgcn(previous / part), KGEModel.load(previous / part / "kge.npz")
        users = _align(old.user_ids, data.user_ids)
        items = _align(old.item_ids, data.item_ids)
        attrs = _align(np.array(old.attr_keys, dtype=object), np.array(data.attr_keys, dtype=object))
        if lg.base_emb is not None and len(lg.base_emb) == len(old.user_ids) + len(old.item_ids):
            # the layer-0 rows training left, which propagation turns into the served ones
            n = len(old.user_ids)
            lg_users, lg_items = _take(lg.base_emb[:n], users), _take(lg.base_emb[n:], items)
        else:  # an older version: its propagated rows are the nearest thing
            lg_users, lg_items = _take(lg.user_emb, users), _take(lg.item_emb, items)
        kge_items = _take(kge.item_emb, items, kge.item_known)
        kge_attrs = _take(kge.attr_emb, attrs, kge.attr_known)
        if kge.user_emb is not None and len(kge.user_emb) == len(old.user_ids):
            kge_users = _take(kge.user_emb, users, np.abs(kge.user_emb).sum(1) > 0)
        else:  # a version written before PyKEEN's user rows were kept
            kge_users = Rows(np.zeros((data.n_users, kge.item_emb.shape[1]), kge.item_emb.dtype),
                             np.zeros(data.n_users, bool))
        return cls(manifest["version"], manifest.get("kge_model") or kge.model,
                   _stack(lg_users, lg_items), _stack(kge_items, kge_attrs, kge_users), dict(kge.relation_emb))


def _align(old_keys: np.ndarray, new_keys: np.ndarray) -> np.ndarray:
    """For each new key, its row in the old table, or -1."""
    index = {k: n for n, k in enumerate(old_keys.tolist())}
    return np.array([index.get(k, -1) for k in new_keys.tolist()], dtype=np.int64)


def _take(table: np.ndarray, rows: np.ndarray, known: np.ndarray | None = None) -> Rows:
    mask = rows >= 0
    if known is not None:
        mask &= known[np.maximum(rows, 0)]
    values = np.zeros((len(rows), table.shape[1]), dtype=table.dtype)
    values[mask] = table[rows[mask]]
    return Rows(values, mask)


def _stack(*parts: Rows) -> Rows:
    return Rows(np.concatenate([p.values for p in parts]), np.concatenate([p.mask for p in parts]))
