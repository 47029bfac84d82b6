"""Bounds that keep training linear in the data on large catalogues (issue 18): evaluated users sampled so
the dense users x items score matrices fit, and LightGCN / PyKEEN epochs capped by a budget of rows seen."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np


def eval_users_cap(n_items: int, max_cells: int) -> int:
    """How many users may be scored at once over ``n_items`` items within ``max_cells`` (at least 200)."""
    return max(200, max_cells // max(n_items, 1))


def sample_users(evalset: Any, n_items: int, max_cells: int, seed: int) -> Any:
    """``evalset`` with its users sampled (seeded, order kept) down to :func:`eval_users_cap`; unchanged when
    it is already within the cap."""
    cap = eval_users_cap(n_items, max_cells)
    if len(evalset.users) <= cap:
        return evalset
    keep = np.sort(np.random.default_rng(seed).choice(len(evalset.users), cap, replace=False))
    return replace(evalset, users=evalset.users[keep])


def budget_epochs(epochs: int, rows: int, budget: int) -> int:
    """``epochs`` capped so that epochs x rows <= ``budget`` (at least one epoch)."""
    return max(1, min(epochs, budget // max(rows, 1)))
