"""The cold-start slot (serve/rerank.py): which new, little-known item may take the last place of a top-k.
The model here is a stand-in with just what the rule reads (which items are new, their training
interactions, their content match); the serving path itself runs in test_api.py and on the real data."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from kgrec.serve.rerank import COLD_INTERACTIONS, COLD_MIN_Z, cold_items
from kgrec.ranking.dataset import Dataset
from kgrec.ranking.recommender import NEW_ITEM_DAYS, new_items

PROFILE = [(100, 5.0, 0)]


def model(new: list[bool], interactions: list[int], content: list[float]) -> SimpleNamespace:
    return SimpleNamespace(new=np.array(new), components=SimpleNamespace(popularity=np.array(interactions, float)),
                           content_scores=lambda profile: np.array(content))


def test_the_best_matching_new_item_takes_the_slot() -> None:
    m = model(new=[False, True, True, True, True], interactions=[0, 0, 2, COLD_INTERACTIONS, 0],
              content=[9.0, COLD_MIN_Z + 1, COLD_MIN_Z + 2, 9.0, COLD_MIN_Z - 0.1])
    allowed = np.ones(5, dtype=bool)
    # 0 is not new, 3 is already known to the collaborative terms, 4 matches too weakly: 2 beats 1
    assert cold_items(m, PROFILE, allowed, taken=[], slots=1) == [2]
    assert cold_items(m, PROFILE, allowed, taken=[], slots=3) == [2, 1]
    assert cold_items(m, PROFILE, allowed, taken=[2], slots=1) == [1]  # already in the top k
    assert cold_items(m, PROFILE, np.array([True, True, False, True, True]), taken=[], slots=1) == [1]  # seen
    assert cold_items(m, PROFILE, allowed, taken=[], slots=0) == []
    assert cold_items(m, [], allowed, taken=[], slots=1) == []  # nothing to match against


def test_new_means_first_seen_lately_or_never() -> None:
    day = 86400
    data = Dataset(user_ids=np.array([1, 2]), item_ids=np.array([10, 11, 12]),
                   users=np.array([0, 1, 1], np.int32), items=np.array([0, 0, 1], np.int32),
                   ratings=np.array([4.0, 5.0, 4.0], np.float32),
                   ts=np.array([0, 1000 * day, (1000 - NEW_ITEM_DAYS + 1) * day]),
                   fact_items=np.zeros(0, np.int32), fact_relations=np.zeros(0, np.int32),
                   fact_attrs=np.zeros(0, np.int32), relations=(), attr_keys=())
    # item 10 was first rated 1,000 days ago; 11 first within the last NEW_ITEM_DAYS; 12 never
    assert new_items(data).tolist() == [False, True, True]
