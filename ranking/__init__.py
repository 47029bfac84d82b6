"""Ranking: the temporal split, metrics, baselines, the hybrid blend, training, evaluation and serving."""
