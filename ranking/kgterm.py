"""The knowledge-graph attribute term: items that share attributes (director, actors, genres,
tags, keywords, mentioned entities, ...) with what the user liked score higher.

Each item is a TF-IDF vector over its attribute nodes (rare attributes say more than a broad category),
L2-normalised; a profile becomes the weighted sum of its items' vectors and every item is scored
by its dot product with that sum. Works for items without any rating, so it is also the path by
which a new item with metadata gets a score.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass
class AttributeModel:
    matrix: sp.csr_matrix  # items x attributes, TF-IDF, rows L2-normalised
    idf: np.ndarray        # per attribute, to build the vector of a new item

    @classmethod
    def fit(cls, n_items: int, n_attrs: int, fact_items: np.ndarray, fact_attrs: np.ndarray) -> "AttributeModel":
        m = fact_links(n_items, n_attrs, fact_items, fact_attrs)
        df = np.asarray((m > 0).sum(0)).ravel()
        # attributes of a single item link nothing to anything: weight 0
        idf = np.where(df >= 2, np.log(n_items / np.maximum(df, 1)), 0.0).astype(np.float32)
        return cls(_normalize_rows(m @ sp.diags(idf)), idf)

    def score_profile(self, profile_items: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = np.ones(len(profile_items), dtype=np.float32) if weights is None else weights.astype(np.float32)
        taste = self.matrix[profile_items].T @ w  # dense, one value per attribute
        return self.matrix @ taste

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        x = (history > 0).astype(np.float32)
        return np.asarray(((x @ self.matrix) @ self.matrix.T).todense())

    def item_vector(self, attrs: np.ndarray) -> sp.csr_matrix:
        """The normalised attribute vector of a new item from its attribute indexes."""
        v = sp.csr_matrix((self.idf[attrs], (np.zeros(len(attrs), dtype=np.int64), attrs)), shape=(1, len(self.idf)))
        v.sum_duplicates()
        return _normalize_rows(v)

    def score_item(self, item_vec: sp.csr_matrix, profile_items: np.ndarray, weights: np.ndarray | None = None) -> float:
        w = np.ones(len(profile_items), dtype=np.float32) if weights is None else weights
        taste = np.asarray(self.matrix[profile_items].T @ w).ravel()
        return float(np.asarray(item_vec @ taste).ravel()[0])


def fact_links(n_items: int, n_attrs: int, fact_items: np.ndarray, fact_attrs: np.ndarray) -> sp.csr_matrix:
    """Items x attributes, 1 where a fact links them."""
    m = sp.csr_matrix((np.ones(len(fact_items), dtype=np.float32), (fact_items, fact_attrs)), shape=(n_items, n_attrs))
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def _normalize_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    m = m.tocsr().astype(np.float32)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(1)).ravel())
    return (sp.diags(np.where(norms > 0, 1.0 / np.maximum(norms, 1e-12), 0.0).astype(np.float32)) @ m).tocsr()
