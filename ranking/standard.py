"""Standardising a term's scores for one profile: z-scores whose mean and spread come from a fixed sample of
catalogue positions (the whole catalogue up to ``2 * STAT_SAMPLE`` items).

Every place that standardises (tuning, evaluation, serving, new items, explanations) uses this one estimate.
With it, an explanation's exact leave-one-out credit (explain/fidelity.py) scores the sample and the shown
items once per removal instead of the whole catalogue: the served score without an item is the same number
whichever columns are computed. The sample's estimate of a term's mean and spread is within a few percent of
the catalogue's; the blend weights are tuned on it.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

#: catalogue positions the statistics are read from (above 2x this many items)
STAT_SAMPLE = 1024


@lru_cache(maxsize=16)
def stat_columns(n_items: int) -> np.ndarray | None:
    """The sorted sample of positions for a catalogue of ``n_items`` (seeded by the size: the same in every
    process); None when the statistics read the whole catalogue."""
    if n_items <= 2 * STAT_SAMPLE:
        return None
    cols = np.sort(np.random.default_rng(n_items).choice(n_items, STAT_SAMPLE, replace=False))
    cols.flags.writeable = False
    return cols


def sample_of(n_items: int) -> np.ndarray:
    """``stat_columns`` as explicit positions (every position when the whole catalogue is read)."""
    cols = stat_columns(n_items)
    return np.arange(n_items) if cols is None else cols


def moments(s: np.ndarray, stat: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per row (the last axis): mean and standard deviation (at least 1e-6) of ``stat`` when given (scores
    of the sample's positions), else of ``s``'s sample columns."""
    s = np.asarray(s, dtype=np.float32)
    if stat is None:
        cols = stat_columns(s.shape[-1])
        stat = s if cols is None else s[..., cols]
    stat = np.asarray(stat, dtype=np.float32)
    return stat.mean(-1, keepdims=True), np.maximum(stat.std(-1, keepdims=True), 1e-6)


def standardize(s: np.ndarray, stat: np.ndarray | None = None) -> np.ndarray:
    """Per row: zero mean, unit variance as estimated on the sample (see ``moments``)."""
    s = np.asarray(s, dtype=np.float32)
    mu, sd = moments(s, stat)
    return (s - mu) / sd


def term_scale(s: np.ndarray) -> float:
    """What one profile's scores ``s`` (a catalogue vector) are divided by when standardised."""
    return float(moments(s)[1].ravel()[0])
