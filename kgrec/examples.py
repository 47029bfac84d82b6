"""Generated example catalogues (never downloaded): a shop (``products``) and a music service (``music``),
as the CSV files ``kgrec ingest csv`` reads, with structure planted so that a good recommender finds it
and an explanation can name it.

Planted structure, the same for both kinds:
* items belong to one of ``groups`` taste groups; each group has its own makers (brands / record labels),
  a main category (product category / style) and, for music, musicians who play in several of its artists;
* each user loves one group (sometimes two): most of their positive interactions (purchases, carts,
  plays with counts) are items of that group, made by one or two favourite makers; a few are random;
* negative interactions (returns / skips) fall on items of other groups; weak ones (views) anywhere;
* social edges (music: friendships, products: follows) mostly join users of the same group, and most users
  share the favourite makers of someone in their network, so what your network likes says more than the
  group alone;
* word of mouth: at the end of their history users pick up a few items that people in their network liked
  (any group), so a temporal split's held-out items are partly what the network liked;
* timestamps increase through each user's history, so a temporal split holds out each user's latest.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KINDS = ("products", "music")


@dataclass(frozen=True)
class ExampleSize:
    items: int = 400
    users: int = 300
    groups: int = 8
    per_user: float = 30     # interactions per user before word of mouth (Poisson mean, at least 8 each)
    seed: int = 7
    social_per_user: float = 2.5  # social edges tried per user (uniform 1 .. 2x-1; duplicates dropped)

    @classmethod
    def scaled(cls, items: int, users: int, interactions: int | None = None, social: int | None = None,
               seed: int = 7, groups: int | None = None) -> "ExampleSize":
        """A size from totals: about ``interactions`` interaction rows (repeats are dropped: within ~10% from
        thousands of items, up to 20% fewer below; default 30 per user plus word of mouth, as the demo) and
        about ``social`` social edges (default
        2.5 per user). Taste groups grow with the catalogue (one per 1,000 items, at least 8) so a group's
        favourite makers stay a few hundred items. The defaults give the demo's catalogue."""
        if min(items, users, interactions or 1) < 1:
            raise ValueError("items, users and interactions must be positive")
        # word of mouth adds ~3.3 rows per user; a repeated item is skipped (measured: 4-8% of draws)
        per_user = cls.per_user if interactions is None else max(1.0, (interactions / users - 3.3) / 0.95)
        social_per_user = 2.5 if social is None else max(1.0, social / users / 0.93)
        return cls(items=items, users=users, groups=groups or max(8, items // 1000), per_user=per_user,
                   seed=seed, social_per_user=social_per_user)


def generate(kind: str, dest: Path, size: ExampleSize = ExampleSize()) -> dict[str, Path]:
    """Write items.csv, interactions.csv and social.csv for ``kind`` into ``dest``; returns the paths."""
    if kind not in KINDS:
        raise ValueError(f"no example catalogue {kind!r}: choose from {', '.join(KINDS)}")
    rng = np.random.default_rng(size.seed)
    dest.mkdir(parents=True, exist_ok=True)
    group_of = rng.integers(0, size.groups, size.items)
    makers_per_group = 6
    maker_of = group_of * makers_per_group + rng.integers(0, makers_per_group, size.items)
    items = _items(kind, rng, group_of, maker_of, size)
    user_group = rng.integers(0, size.groups, size.users)
    social = _social(rng, user_group, size, kind)
    users = _users(kind, rng, group_of, maker_of, size, user_group, social)
    paths = {"items": dest / "items.csv", "interactions": dest / "interactions.csv", "social": dest / "social.csv"}
    _write(paths["items"], items)
    _write(paths["interactions"], users["rows"])
    _write(paths["social"], social)
    return paths


_CATEGORY = ["Kitchen", "Garden", "Outdoor", "Office", "Toys", "Audio", "Bath", "Lighting", "Sports", "Books"]
_MATERIAL = ["steel", "oak", "cotton", "glass", "bamboo", "wool"]
_STYLE = ["Shoegaze", "Afrobeat", "Techno", "Bluegrass", "Grime", "Bossa Nova", "Krautrock", "Dub", "Zydeco", "Drill"]
_ORIGIN = ["Lagos", "Manchester", "Detroit", "Bristol", "Rio", "Berlin", "Nashville", "Kingston"]


def _items(kind: str, rng: np.random.Generator, group_of: np.ndarray, maker_of: np.ndarray,
           size: ExampleSize) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for i in range(size.items):
        g, m = int(group_of[i]), int(maker_of[i])
        if kind == "products":
            rows.append({"id": 1000 + i, "title": f"{_CATEGORY[g % len(_CATEGORY)]} item {i}",
                         "description": f"A {_MATERIAL[i % len(_MATERIAL)]} product for {_CATEGORY[g % len(_CATEGORY)].lower()} use.",
                         "price": round(float(5 + rng.gamma(2.0, 15.0)), 2),
                         "brand": f"Brand {m}", "category": _CATEGORY[g % len(_CATEGORY)],
                         "material": _MATERIAL[int(rng.integers(0, len(_MATERIAL)))]})
        else:
            # musicians play in two or three artists of their group: a specific shared node
            members = [f"Musician {g}-{int(x)}" for x in rng.choice(12, size=2, replace=False)]
            rows.append({"id": 1000 + i, "title": f"Artist {i}",
                         "bio": f"Artist {i} plays {_STYLE[g % len(_STYLE)]} out of {_ORIGIN[g % len(_ORIGIN)]}.",
                         "members": "|".join(members), "label": f"Label {m}",
                         "genres": _STYLE[g % len(_STYLE)], "origin": _ORIGIN[g % len(_ORIGIN)]})
    return rows


def _users(kind: str, rng: np.random.Generator, group_of: np.ndarray, maker_of: np.ndarray, size: ExampleSize,
           user_group: np.ndarray, social: list[dict[str, object]]) -> dict[str, object]:
    by_group = [np.flatnonzero(group_of == g) for g in range(size.groups)]
    rows: list[dict[str, object]] = []
    start = 1_700_000_000
    network: dict[int, list[int]] = {}
    for edge in social:
        a, b = int(edge["user"]) - 1, int(edge["other"]) - 1  # type: ignore[call-overload]
        network.setdefault(a, []).append(b)
        network.setdefault(b, []).append(a)
    chosen: dict[int, np.ndarray] = {}
    last: dict[int, int] = {}
    taken: dict[int, set[int]] = {}
    positives: dict[int, set[int]] = {}
    for u in range(size.users):
        g = int(user_group[u])
        pool = by_group[g]
        own = np.unique(maker_of[pool])
        makers = rng.choice(own, size=min(2, len(own)), replace=False)
        # most users take on the favourite makers of someone they follow or befriend (in their group)
        peers = [p for p in network.get(u, []) if p in chosen and user_group[p] == g]
        if peers and rng.random() < 0.75:
            makers = chosen[peers[int(rng.integers(0, len(peers)))]]
        chosen[u] = makers
        favourite = pool[np.isin(maker_of[pool], makers)]
        n = max(8, int(rng.poisson(size.per_user)))
        seen: set[int] = set()
        ts = start + int(rng.integers(0, 86400 * 30))
        for _ in range(n):
            ts += int(rng.integers(600, 86400 * 3))
            roll = rng.random()
            if roll < 0.55 and len(favourite):
                i = int(rng.choice(favourite))
                positive = True
            elif roll < 0.8:
                i = int(rng.choice(pool))
                positive = rng.random() < 0.6
            elif roll < 0.9:
                other = by_group[int(rng.integers(0, size.groups))]
                i = int(rng.choice(other)) if len(other) else int(rng.integers(0, size.items))
                positive = False
                if group_of[i] != g:
                    rows.append(_negative(kind, u, i, ts))
                    seen.add(i)
                    continue
            else:
                i = int(rng.integers(0, size.items))
                positive = rng.random() < 0.3
            if i in seen:
                continue
            seen.add(i)
            rows.append(_positive(kind, rng, u, i, ts) if positive else _weak(kind, u, i, ts))
            if positive:
                positives.setdefault(u, set()).add(i)
        last[u], taken[u] = ts, seen
    # word of mouth: later on, users pick up what someone in their network liked (any group)
    for u in range(size.users):
        peers = network.get(u, [])
        liked = sorted(set().union(*(positives.get(p, set()) for p in peers))) if peers else []
        ts = last[u]
        for i in (rng.permutation(liked)[:int(rng.integers(2, 6))] if liked else []):
            if int(i) in taken[u]:
                continue
            ts += int(rng.integers(600, 86400 * 3))
            rows.append(_positive(kind, rng, u, int(i), ts))
    return {"rows": rows}


def _positive(kind: str, rng: np.random.Generator, u: int, i: int, ts: int) -> dict[str, object]:
    if kind == "products":
        event = "purchase" if rng.random() < 0.6 else "add_to_cart"
        return {"user": u + 1, "item": 1000 + i, "event": event, "count": 1, "timestamp": ts}
    plays = int(math.ceil(rng.pareto(1.2) * 10)) + 3
    return {"user": u + 1, "item": 1000 + i, "event": "play", "count": plays, "timestamp": ts}


def _weak(kind: str, u: int, i: int, ts: int) -> dict[str, object]:
    if kind == "products":
        return {"user": u + 1, "item": 1000 + i, "event": "view", "count": 1, "timestamp": ts}
    return {"user": u + 1, "item": 1000 + i, "event": "play", "count": 1, "timestamp": ts}


def _negative(kind: str, u: int, i: int, ts: int) -> dict[str, object]:
    event = "return" if kind == "products" else "skip"
    return {"user": u + 1, "item": 1000 + i, "event": event, "count": "", "timestamp": ts}


def _social(rng: np.random.Generator, user_group: np.ndarray, size: ExampleSize, kind: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    seen: set[tuple[int, int]] = set()
    social_kind = "follows" if kind == "products" else "friend"
    for u in range(size.users):
        same = np.flatnonzero(user_group == user_group[u])
        for _ in range(int(rng.integers(1, max(2, round(2 * size.social_per_user))))):
            other = int(rng.choice(same)) if rng.random() < 0.85 else int(rng.integers(0, size.users))
            a, b = (u, other) if social_kind == "follows" else (min(u, other), max(u, other))
            if a == b or (a, b) in seen:
                continue
            seen.add((a, b))
            rows.append({"user": a + 1, "other": b + 1, "kind": social_kind})
    return rows


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
