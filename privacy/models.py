"""The model versions on disk: every folder that may hold a user's rows, and purging them."""
from __future__ import annotations

from pathlib import Path

from kgrec.config import Settings
from kgrec.graph.connection import Graph


def version_dirs(graph: Graph | None, settings: Settings) -> list[Path]:
    """Every model version folder: those under the models folder (half-written ``.partial`` ones too) and
    any other place a ``(:ModelVersion)`` records (its key in the model store, and the absolute path an older
    graph recorded: both, so a copy left at the old place is purged too)."""
    from kgrec.ranking.modelstore import open_store

    found: set[Path] = set()
    if settings.models_dir.is_dir():
        found |= {p for p in settings.models_dir.iterdir() if (p / "dataset.npz").is_file()}
    if graph is not None:
        store = open_store(settings)
        for row in graph.read("privacy/model_paths"):
            for path in [store.local(row["key"] or row["id"])] + ([Path(row["path"])] if row["path"] else []):
                if (path / "dataset.npz").is_file():
                    found.add(path)
    return sorted(found)


def purge_models(graph: Graph | None, settings: Settings, user: int) -> dict[str, int]:
    """Remove the user's rows from every version; returns {version folder name: interactions removed}
    for the versions that held them."""
    from kgrec.ranking.modelstore import purge_user

    purged = {}
    for directory in version_dirs(graph, settings):
        removed = purge_user(directory, user)
        if removed >= 0:
            purged[directory.name] = removed
    return purged


def versions_holding(graph: Graph | None, settings: Settings, user: int) -> dict[str, int]:
    """{version folder name: the user's interactions in it} for every version that holds the user."""
    import numpy as np

    out = {}
    for directory in version_dirs(graph, settings):
        with np.load(directory / "dataset.npz") as z:
            ids, users = z["user_ids"], z["users"]
        row = int(np.searchsorted(ids, user))
        if row < len(ids) and ids[row] == user:
            out[directory.name] = int((users == row).sum())
    return out
