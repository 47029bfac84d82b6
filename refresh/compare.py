"""Judge a candidate and the active version on the SAME held-out interactions.

Each version's report scores it on its own split; after new data arrives the two test sets differ (the
newest ratings become test targets), so comparing the reports' numbers would compare different exams.
Here both versions are scored by the serving code (``Recommender.score_profile``) on the candidate's test
split: the profile is what each test user rated before it, the targets are what they liked in it. An item
a version does not know (e.g. an item added since it was trained) can only rank last for that version.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

#: the score of an item a version does not know: below any real score, above the masked history (-inf)
UNKNOWN = -1e30


def same_test_ndcg(candidate_dir: Path, versions: dict[str, Path], k: int = 10) -> dict[str, float]:
    """NDCG@k of every ``versions`` model directory on ``candidate_dir``'s test split."""
    from kgrec.ranking.dataset import Dataset
    from kgrec.ranking.metrics import EvalSet, ndcg_at_k
    from kgrec.ranking.modelstore import TUNING_DIR, load_components, read_manifest
    from kgrec.ranking.recommender import Recommender
    from kgrec.ranking.split import TEST, TRAIN, VAL, Split, SplitConfig

    data = Dataset.load(candidate_dir)
    split = Split(SplitConfig(**read_manifest(candidate_dir)["config"]["split"]), np.load(candidate_dir / "split.npy"))
    test = EvalSet.build(split.matrix(data, TRAIN, VAL), split.targets(data, TEST))
    before = split.mask(TRAIN, VAL)
    profiles = []
    for user in test.users:
        rows = np.flatnonzero(before & (data.users == user))
        profiles.append([(int(data.item_ids[data.items[r]]), float(data.ratings[r]), int(data.ts[r])) for r in rows])
    result: dict[str, float] = {}
    for name, directory in versions.items():
        model = Recommender.load(directory)
        if (directory / TUNING_DIR).exists():
            # a version's published components are refitted on all its data, this test period included:
            # judge each by its tuning run's (trained on its own training part only)
            model.components = load_components(directory / TUNING_DIR)
        pos = np.minimum(np.searchsorted(data.item_ids, model.item_ids), len(data.item_ids) - 1)
        known = data.item_ids[pos] == model.item_ids
        scores = np.full((len(test.users), len(data.item_ids)), UNKNOWN, dtype=np.float32)
        for row, profile in enumerate(profiles):
            scores[row, pos[known]] = np.asarray(model.score_profile(profile), dtype=np.float32)[known]
        result[name] = ndcg_at_k(scores, test, k)
    return result
