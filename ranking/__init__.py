"""Ranking: baselines, the hybrid ranker, evaluation, and model versions."""
