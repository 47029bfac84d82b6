"""The synthetic movie graph of the model, API and refresh tests: 48 users who each prefer one genre (so a
working model has something to find). Plain data and helpers; the fixtures that train on it are in conftest."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

GENRES = ["Action", "Comedy", "Drama", "Horror"]
PER_GENRE = 15
DAY = 86400


def movie_id(genre: int, k: int) -> int:
    return 1000 + 100 * genre + k


def synthetic(n_users: int = 48, seed: int = 0) -> dict[str, list]:
    """Each user likes one genre (ratings 4-5), rates a few others low (1-3); every genre has three
    directors with five films each; one extra film has metadata but no ratings."""
    rng = np.random.default_rng(seed)
    movies = [{"id": movie_id(g, k), "title": f"{GENRES[g]} film {k}"} for g in range(4) for k in range(PER_GENRE)]
    movies.append({"id": 9999, "title": "Unrated horror film"})
    links = [{"item": movie_id(g, k), "label": "Genre", "key": GENRES[g], "type": "IN_GENRE"}
             for g in range(4) for k in range(PER_GENRE)]
    links += [{"item": movie_id(g, k), "label": "Person", "key": f"director-{g}-{k // 5}",
               "name": f"Director {g}-{k // 5}", "type": "DIRECTED"} for g in range(4) for k in range(PER_GENRE)]
    links += [{"item": 9999, "label": "Genre", "key": "Horror", "type": "IN_GENRE"},
              {"item": 9999, "label": "Person", "key": "director-3-0", "name": "Director 3-0", "type": "DIRECTED"}]
    ratings = []
    for u in range(1, n_users + 1):
        fav = u % 4
        liked = rng.choice(PER_GENRE, size=12, replace=False)
        others = [(g, int(k)) for g in range(4) if g != fav for k in rng.choice(PER_GENRE, size=2, replace=False)]
        picks = [(fav, int(k), float(rng.choice([4.0, 4.5, 5.0]))) for k in liked]
        picks += [(g, k, float(rng.choice([1.0, 2.0, 3.0]))) for g, k in others]
        order = rng.permutation(len(picks))
        for n, p in enumerate(order):
            g, k, r = picks[p]
            ratings.append({"user": u, "item": movie_id(g, k), "rating": r, "ts": (1000 + 10 * n) * DAY + u})
    return {"movies": movies, "users": list(range(1, n_users + 1)), "ratings": ratings, "links": links,
            "tagged": [], "co_liked": []}


def clone_version(models_dir: Path, version: str, new: str) -> str:
    """A copy of a trained version's directory under another version id (its manifest says so too): a
    second version without a second training run."""
    target = models_dir / new
    shutil.copytree(models_dir / version, target)
    manifest = json.loads((target / "manifest.json").read_text())
    (target / "manifest.json").write_text(json.dumps({**manifest, "version": new}, indent=2, sort_keys=True))
    return new
