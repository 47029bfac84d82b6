"""Erasure that stays erased: tombstones, derived data recomputed, models purged, export and audit."""
