"""A versioned model directory: ``<models_dir>/<version>/`` holds every trained part, the id <->
index mappings (the Dataset), the split, the blend and the evaluation report."""
from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from kgrec.embeddings.kge import KGEModel
from kgrec.embeddings.lightgcn import LightGCNModel
from kgrec.ranking.hybrid import BlendParams, Components
from kgrec.ranking.itemmodels import EASE
from kgrec.ranking.kgterm import AttributeModel

MANIFEST = "manifest.json"
REPORT = "evaluation.json"
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.-]{0,99}$")


def new_version_id(now: datetime | None = None) -> str:
    """Sortable and unique enough for one trainer: UTC time to the millisecond."""
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"


def version_dir(models_dir: Path, version: str) -> Path:
    if not _VERSION.match(version):
        raise ValueError(f"not a model version id: {version!r}")
    return models_dir / version


def save_components(directory: Path, comp: Components) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    np.savez(directory / "ease.npz", items=comp.ease.items, B=comp.ease.B, n_items=comp.ease.n_items)
    base = {} if comp.lightgcn.base_emb is None else {"base_emb": comp.lightgcn.base_emb}
    np.savez(directory / "lightgcn.npz", item_emb=comp.lightgcn.item_emb, user_emb=comp.lightgcn.user_emb, **base)
    comp.kge.save(directory / "kge.npz")
    sp.save_npz(directory / "kgattr_matrix.npz", comp.kgattr.matrix)
    np.save(directory / "kgattr_idf.npy", comp.kgattr.idf)
    np.save(directory / "popularity.npy", comp.popularity)


def load_components(directory: Path) -> Components:
    with np.load(directory / "ease.npz") as z:
        ease = EASE(z["items"], z["B"], int(z["n_items"]))
    lightgcn = load_lightgcn(directory)
    kgattr = AttributeModel(sp.load_npz(directory / "kgattr_matrix.npz").tocsr(), np.load(directory / "kgattr_idf.npy"))
    return Components(ease, lightgcn, KGEModel.load(directory / "kge.npz"), kgattr,
                      np.load(directory / "popularity.npy"))


def load_lightgcn(directory: Path) -> LightGCNModel:
    with np.load(directory / "lightgcn.npz") as z:
        return LightGCNModel(z["item_emb"], z["user_emb"], z["base_emb"] if "base_emb" in z.files else None)


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
