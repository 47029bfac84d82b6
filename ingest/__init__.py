"""Ingest: source adapters (MovieLens, HetRec, TMDB text, generic CSV) and batched, idempotent graph writes."""
