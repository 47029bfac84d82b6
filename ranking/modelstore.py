"""A versioned model directory: ``<models_dir>/<version>/`` holds every trained part, the id <->
index mappings (the Dataset), the split, the blend and the evaluation report."""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from kgrec.config import Settings
from kgrec.embeddings.kge import KGEModel
from kgrec.embeddings.lightgcn import LightGCNModel
from kgrec.ranking.hybrid import BlendParams, Components

MANIFEST = "manifest.json"
REPORT = "evaluation.json"
#: the tuning run's components (fitted on the training part: what held-out metrics are computed with) and the
#: facts it could use; the version's own components are the refit on every interaction (ranking/fitting.py)
TUNING_DIR = "tuning"
TUNING_FACTS = "tuning_facts.npy"
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,99}$")


def new_version_id(now: datetime | None = None) -> str:
    """Sortable and unique enough for one trainer: UTC time to the millisecond."""
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"


def version_dir(models_dir: Path, version: str) -> Path:
    if not _VERSION.match(version):
        raise ValueError(f"not a model version id: {version!r}")
    return models_dir / version


class LocalStore:
    """A model store that is a folder, local or shared between machines (NFS, a mounted volume): a version's
    key is its folder name. An object store (``s3://``, ``gs://``) would be another class with the same two
    methods, ``local(key)`` downloading the version into a local cache first, and an entry in ``STORES``;
    none is implemented (config.local_store_root refuses other schemes)."""

    scheme = "file"

    def __init__(self, root: Path):
        self.root = root

    def key(self, version: str) -> str:
        """What the graph records for a version: relative to the store, so any mount point reads it."""
        return version_dir(self.root, version).name

    def local(self, key: str) -> Path:
        """The version's folder on this machine."""
        return version_dir(self.root, key)


STORES = {"file": LocalStore}


def open_store(settings: Settings) -> LocalStore:
    """The store ``KGREC_MODEL_STORE`` names (ValueError for a scheme that is not implemented)."""
    return STORES["file"](settings.models_dir)


def locate_version(settings: Settings, version: str, key: str | None, legacy_path: str | None) -> Path:
    """The folder of a recorded version: its ``key`` in the store (the version id when the node has no key).
    A graph written before keys recorded an absolute ``path``: used when the store does not hold the key,
    so an old graph still loads where its folder was."""
    where = open_store(settings).local(key or version)
    if not (where / MANIFEST).exists() and legacy_path and (Path(legacy_path) / MANIFEST).exists():
        return Path(legacy_path)
    return where


def save_components(directory: Path, comp: Components) -> None:
    """Every blend term's files (ranking/components.py); EASE dense or, on large catalogues, sparse."""
    from kgrec.ranking.components import TERMS

    directory.mkdir(parents=True, exist_ok=True)
    for name in TERMS:
        comp.term(name).save(directory)


def load_components(directory: Path) -> Components:
    from kgrec.ranking.components import TERMS

    return Components.from_terms({name: term.load(directory) for name, term in TERMS.items()})


_LIGHTGCN_OPTIONAL = ("base_emb", "query_scale", "target_scale")  # absent from older versions


def save_lightgcn(directory: Path, model: LightGCNModel) -> None:
    extra = {name: getattr(model, name) for name in _LIGHTGCN_OPTIONAL if getattr(model, name) is not None}
    if model.disliked_weight is not None:
        extra["disliked_weight"] = np.float64(model.disliked_weight)
    np.savez(directory / "lightgcn.npz", item_emb=model.item_emb, user_emb=model.user_emb, **extra)


def load_lightgcn(directory: Path) -> LightGCNModel:
    with np.load(directory / "lightgcn.npz") as z:
        disliked = float(z["disliked_weight"]) if "disliked_weight" in z.files else None
        return LightGCNModel(z["item_emb"], z["user_emb"], disliked_weight=disliked,
                             **{name: z[name] for name in _LIGHTGCN_OPTIONAL if name in z.files})


def write_manifest(directory: Path, version: str, params: BlendParams, positive_rating: float,
                   extra: dict[str, Any]) -> None:
    manifest = {"version": version, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "blend": asdict(params), "positive_rating": positive_rating, **extra}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"{directory} is not a kgrec model directory (no {MANIFEST})")
    return json.loads(path.read_text())


def write_report(directory: Path, report: dict[str, Any]) -> None:
    (directory / REPORT).write_text(json.dumps(report, indent=2))


def read_report(directory: Path) -> dict[str, Any]:
    return json.loads((directory / REPORT).read_text())


_NOT_PER_INTERACTION = {"user_ids", "item_ids", "fact_items", "fact_relations", "fact_attrs"}


def purge_user(directory: Path, user: int) -> int:
    """Remove one user's rows from a version: their interactions (dataset index and split), their LightGCN
    and PyKEEN rows, and their share of the training popularity counts; user indexes above theirs move down
    by one. Each file is replaced whole (written aside, then renamed), ``dataset.npz`` last; a file loses rows
    only while its length says it still holds them, so a purge cut short is completed by running it again.
    Returns the interactions removed, or -1 when the version never held the user."""
    from kgrec.ranking.dataset import Dataset
    from kgrec.ranking.split import TRAIN

    data = Dataset.load(directory)
    row = int(np.searchsorted(data.user_ids, user))
    if row >= len(data.user_ids) or data.user_ids[row] != user:
        return -1
    mine = data.users == row
    # every per-interaction array (users, items, ratings, ts and any the dataset gains) loses the user's rows
    per_interaction = {f.name: getattr(data, f.name)[~mine] for f in fields(data)
                       if f.name not in _NOT_PER_INTERACTION and isinstance(getattr(data, f.name), np.ndarray)
                       and len(getattr(data, f.name)) == len(mine)}
    users = per_interaction.pop("users")
    purged = replace(data, user_ids=np.delete(data.user_ids, row), users=np.where(users > row, users - 1, users),
                     **per_interaction)
    stage = directory / ".purge"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    purged.save(stage)
    split_file = directory / "split.npy"
    part = np.load(split_file) if split_file.exists() else None
    if part is not None and len(part) == len(mine):
        np.save(stage / "split.npy", part[~mine])
    refit = "refit" in read_manifest(directory).get("runs", {})
    # the version's own components (a refit counts every interaction) and its tuning run's (the training part)
    for sub, counted in (("", None if refit else TRAIN), (TUNING_DIR, TRAIN)):
        if not (directory / sub).is_dir() or (sub and not (directory / sub / "lightgcn.npz").exists()):
            continue
        (stage / sub).mkdir(exist_ok=True)
        _purge_components(directory / sub, stage / sub, data, row, mine, part, counted)
    for path in sorted((stage / TUNING_DIR).iterdir()) if (stage / TUNING_DIR).is_dir() else []:
        path.replace(directory / TUNING_DIR / path.name)
    shutil.rmtree(stage / TUNING_DIR, ignore_errors=True)
    for path in sorted(stage.iterdir(), key=lambda p: p.name == "dataset.npz"):
        path.replace(directory / path.name)
    stage.rmdir()
    return int(mine.sum())


def _purge_components(source: Path, stage: Path, data: Any, row: int, mine: np.ndarray, part: np.ndarray | None,
                      counted: int | None) -> None:
    """One set of components without user ``row``: popularity (users per item) loses the items the user had in
    the ``counted`` part (None: every part), LightGCN and PyKEEN their user row."""
    popularity_file = source / "popularity.npy"
    if popularity_file.exists() and part is not None and len(part) == len(mine):
        popularity = np.load(popularity_file)
        had = mine & (data.ratings >= 0) & (True if counted is None else part == counted)
        np.subtract.at(popularity, np.unique(data.items[had]), 1)
        np.save(stage / "popularity.npy", np.maximum(popularity, 0))
    if (source / "lightgcn.npz").exists():
        lg = load_lightgcn(source)
        n = len(data.user_ids)
        base = lg.base_emb
        if base is not None and len(base) == n + len(data.item_ids):  # users first
            base = np.delete(base, row, axis=0)
        save_lightgcn(stage, replace(lg, user_emb=np.delete(lg.user_emb, row, axis=0)
                                     if len(lg.user_emb) == n else lg.user_emb, base_emb=base))
    if (source / "kge.npz").exists():
        kge = KGEModel.load(source / "kge.npz")
        if kge.user_emb is not None and len(kge.user_emb) == len(data.user_ids):
            replace(kge, user_emb=np.delete(kge.user_emb, row, axis=0)).save(stage / "kge.npz")
