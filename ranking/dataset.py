"""The training data as contiguous-index arrays, plus the id <-> index mappings kept with the model."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """Interactions and item facts with users, items and attributes mapped to 0..n-1.

    Indexes follow the sorted external ids (users, items) and sorted keys (attributes, relations),
    so the same graph always gives the same mapping.
    """

    user_ids: np.ndarray        # int64 external user ids, index order
    item_ids: np.ndarray        # int64 external item ids: the whole catalogue, index order
    users: np.ndarray           # int32 user index, one per interaction
    items: np.ndarray           # int32 item index, one per interaction
    ratings: np.ndarray         # float32: each interaction's value under the catalogue's signal model
    ts: np.ndarray              # int64 epoch seconds
    fact_items: np.ndarray      # int32 item index, one per (item, relation, attribute) fact
    fact_relations: np.ndarray  # int32 index into ``relations``
    fact_attrs: np.ndarray      # int32 index into ``attr_keys``
    relations: tuple[str, ...]
    attr_keys: tuple[str, ...]  # "Label:key", e.g. "Brand:Acme", "Person:42"
    #: social edges as user indexes: social_users[k] sees what social_others[k] likes (follows; friends both ways)
    social_users: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    social_others: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

    def social_matrix(self):
        """users x users, 1 where the row user sees what the column user likes."""
        import scipy.sparse as sp

        m = sp.csr_matrix((np.ones(len(self.social_users), dtype=np.float32),
                           (self.social_users, self.social_others)), shape=(self.n_users, self.n_users))
        m.sum_duplicates()
        m.data[:] = 1
        return m

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_attrs(self) -> int:
        return len(self.attr_keys)

    @classmethod
    def build(cls, ratings: Iterable[tuple[int, int, float, int]], catalogue: Iterable[int],
              facts: Iterable[tuple[int, str, str]], social: Iterable[tuple[int, int]] = ()) -> "Dataset":
        """From (user, item, rating, ts) rows, the catalogue's item ids and (item, relation, attr key) rows.

        Rated items missing from the catalogue are added to it; facts about unknown items are dropped.
        """
        rows = list(ratings)
        if not rows:
            raise ValueError("no interactions: the graph has no (:User)-[...]->(:Item) relationship of the "
                             "catalogue's interaction type (ingest interactions first)")
        r_users = np.array([r[0] for r in rows], dtype=np.int64)
        r_items = np.array([r[1] for r in rows], dtype=np.int64)
        item_ids = np.union1d(np.fromiter(catalogue, dtype=np.int64), r_items)
        user_ids = np.unique(r_users)
        facts = [f for f in facts if f[0] is not None and f[2] is not None]
        f_items = np.array([f[0] for f in facts], dtype=np.int64)
        known = np.isin(f_items, item_ids)
        facts = [f for f, ok in zip(facts, known) if ok]
        relations = tuple(sorted({f[1] for f in facts}))
        attr_keys = tuple(sorted({f[2] for f in facts}))
        rel_index = {k: n for n, k in enumerate(relations)}
        attr_index = {k: n for n, k in enumerate(attr_keys)}
        edges = np.array([e for e in social], dtype=np.int64).reshape(-1, 2)
        pos = np.minimum(np.searchsorted(user_ids, edges), max(len(user_ids) - 1, 0))
        both = (user_ids[pos] == edges).all(1) if len(edges) else np.zeros(0, dtype=bool)
        return cls(
            social_users=pos[both, 0].astype(np.int32),
            social_others=pos[both, 1].astype(np.int32),
            user_ids=user_ids,
            item_ids=item_ids,
            users=np.searchsorted(user_ids, r_users).astype(np.int32),
            items=np.searchsorted(item_ids, r_items).astype(np.int32),
            ratings=np.array([r[2] for r in rows], dtype=np.float32),
            ts=np.array([r[3] or 0 for r in rows], dtype=np.int64),
            fact_items=np.searchsorted(item_ids, f_items[known]).astype(np.int32),
            fact_relations=np.array([rel_index[f[1]] for f in facts], dtype=np.int32),
            fact_attrs=np.array([attr_index[f[2]] for f in facts], dtype=np.int32),
            relations=relations,
            attr_keys=attr_keys,
        )

    # -- persistence: the mapping travels with the model ---------------------------------------
    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(directory / "dataset.npz", **{k: getattr(self, k) for k in _ARRAYS + _SOCIAL},
                            relations=np.array(self.relations, dtype=str),
                            attr_keys=np.array(self.attr_keys, dtype=str))

    @classmethod
    def load(cls, directory: Path) -> "Dataset":
        with np.load(directory / "dataset.npz") as z:
            social = {k: z[k] for k in _SOCIAL if k in z.files}  # versions before social edges have none
            return cls(**{k: z[k] for k in _ARRAYS}, **social, relations=tuple(z["relations"].tolist()),
                       attr_keys=tuple(z["attr_keys"].tolist()))


_SOCIAL = ("social_users", "social_others")
_ARRAYS = ("user_ids", "item_ids", "users", "items", "ratings", "ts", "fact_items", "fact_relations", "fact_attrs")
