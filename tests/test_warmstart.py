"""Warm start (ranking/warmstart.py): the rows a new training run inherits survive PyKEEN's own reset and
the first epoch moves them only a little, while the rows of new entities start fresh."""
from __future__ import annotations

import numpy as np
import pytest

from kgrec.embeddings.kge import KGEConfig, KGETrainer, Triples, use_pystow_home

# users 3 and 4 like items 0 and 1; item 0 is in genre 2 (entities: items 0-1, attribute 2, users 3-4)
TRIPLES = Triples(np.array([3, 3, 4, 0]), np.array([0, 0, 0, 1]), np.array([0, 1, 1, 2]), ("likes", "IN_GENRE"),
                  2, 1, 2)


@pytest.mark.parametrize("model", ["RotatE", "TransE", "ComplEx"])
def test_warm_rows_survive_the_first_training_epoch(model: str, tmp_path) -> None:
    use_pystow_home(tmp_path)
    cold = KGETrainer(TRIPLES, KGEConfig(model=model, dim=4, seed=1)).export()
    warm_values = np.full((5, cold.item_emb.shape[1]), 0.5, dtype=cold.item_emb.dtype)
    mask = np.array([True, True, True, False, False])  # the items and the attribute are inherited
    trainer = KGETrainer(TRIPLES, KGEConfig(model=model, dim=4, seed=2, lr=1e-3),
                         (warm_values, mask, cold.relation_emb))
    trainer.train(1)
    after = trainer.export()
    assert np.allclose(after.item_emb, 0.5, atol=0.05)  # started from 0.5 and moved one small step
    assert np.allclose(after.attr_emb, 0.5, atol=0.05)
    assert not np.allclose(after.user_emb, 0.5, atol=0.05)  # new rows start from PyKEEN's initialisation
