"""The numpy scoring that serves requests (embeddings/kge.py: the KGEModel exported from PyKEEN) gives the
score PyKEEN's own model gives (``score_hrt``) to the same (user, likes, item) triples, for each interaction
model kgrec trains. Serving folds a user in as a query point (``h + r`` for TransE, ``h ∘ r`` otherwise);
here that point is built from the user's trained row, which PyKEEN scores directly."""
from __future__ import annotations

import numpy as np
import pytest

from kgrec.embeddings.kge import INTERACTIONS, LIKES, KGEConfig, KGETrainer, Triples, use_pystow_home

N_ITEMS, N_ATTRS, N_USERS = 5, 2, 3
# users 0-2 like some items; items 0-1 share genre 0, items 2-4 director 1 (numbered by Triples.build:
# items first, then attributes, then users)
TRIPLES = Triples.build(like_users=np.array([0, 0, 1, 1, 2, 2]), like_items=np.array([0, 1, 1, 2, 3, 4]),
                        fact_items=np.array([0, 1, 2, 3, 4]), fact_relations=np.array([0, 0, 1, 1, 1]),
                        fact_attrs=np.array([0, 0, 1, 1, 1]), relation_names=("IN_GENRE", "DIRECTED"),
                        n_items=N_ITEMS, n_attrs=N_ATTRS, n_users=N_USERS, min_attr_items=1)


@pytest.mark.parametrize("model", INTERACTIONS)
def test_numpy_scores_equal_pykeens_score_hrt(model: str, tmp_path) -> None:
    import torch

    use_pystow_home(tmp_path)
    trainer = KGETrainer(TRIPLES, KGEConfig(model=model, dim=8, epochs=2, batch_size=16, seed=3))
    trainer.train(2)
    exported = trainer.export()
    assert exported.item_known.all() and exported.user_emb is not None
    likes = exported.relation_emb[LIKES]
    hrt = torch.tensor([[N_ITEMS + N_ATTRS + u, 0, i] for u in range(N_USERS) for i in range(N_ITEMS)])
    trainer.model.eval()
    with torch.no_grad():
        expected = trainer.model.score_hrt(hrt).numpy().reshape(N_USERS, N_ITEMS)
    for u in range(N_USERS):
        h = exported.user_emb[u]
        query = h + likes if model == "TransE" else h * likes
        assert exported.score_query(query) == pytest.approx(expected[u], abs=1e-4), (model, u)
        # the same scores for a chosen subset of the items
        some = np.array([4, 0, 2])
        assert exported.score_query(query, some) == pytest.approx(expected[u][some], abs=1e-4), (model, u)
    assert np.ptp(expected) > 1e-3  # trained scores that tell items apart, so the comparison means something
