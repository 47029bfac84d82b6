"""Serving: score a user's current profile (read from Neo4j at request time) against the catalogue.

Nothing about a user is stored in the model: every term folds the profile in (see hybrid.py), so a
rating posted a second ago and a brand-new user with three ratings both work without retraining.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kgrec.ranking.dataset import Dataset
from kgrec.ranking.hybrid import COMPONENTS, SOCIAL, BlendParams, Components, blend, live, profile_weights
from kgrec.ranking.standard import moments, stat_columns, standardize, term_scale
from kgrec.ranking.modelstore import load_components, read_manifest
from kgrec.ranking.components import TERMS

Profile = Sequence[tuple[int, float, int]]  # (item id, rating, ts epoch seconds)


#: an item first interacted with this many days before the newest interaction of the data is new
NEW_ITEM_DAYS = 90


def new_items(data: Dataset) -> np.ndarray:
    """Per item: no interaction at all, or the first one within NEW_ITEM_DAYS of the data's newest."""
    first = np.full(data.n_items, np.iinfo(np.int64).max, dtype=np.int64)
    if len(data.ts):
        np.minimum.at(first, data.items.astype(np.int64), data.ts.astype(np.int64))
        return first >= int(data.ts.max()) - NEW_ITEM_DAYS * 86400
    return np.ones(data.n_items, dtype=bool)


class UnknownItem(KeyError):
    """The item id is not in this model's catalogue."""


def profile_arrays(profile: Profile) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A profile's (item ids, values, ts) as arrays, kept on a profile object that takes attributes (the
    served one is scored, credited and explained several times per request: a long profile's conversion
    is milliseconds each time)."""
    held = getattr(profile, "_arrays", None)
    if held is not None and len(held[0]) == len(profile):
        return held
    n = len(profile)
    arrays = (np.fromiter((p[0] for p in profile), dtype=np.int64, count=n),
              np.fromiter((p[1] for p in profile), dtype=np.float32, count=n),
              np.fromiter((p[2] or 0 for p in profile), dtype=np.int64, count=n))
    for a in arrays:
        a.flags.writeable = False
    try:
        profile._arrays = arrays  # type: ignore[attr-defined]
    except AttributeError:  # a plain list or tuple: converted each time
        pass
    return arrays


class Contributions(Mapping[int, float]):
    """One item's per-profile-item contributions (profile item id -> how much it adds to the score), read
    from a column of the (profile item, target) matrix without building a dict per target: a long profile
    times a list's items would be tens of thousands of Python floats per request, of which a few are read.
    ``exact``: values that replace the column's (the exact leave-one-out drops, explain/fidelity.py)."""

    __slots__ = ("_at", "_values", "_exact", "_base", "_total")

    def __init__(self, at: Mapping[int, int], values: np.ndarray, exact: Mapping[int, float] | None = None,
                 base_total: float | None = None):
        self._at, self._values, self._exact = at, values, dict(exact or {})
        self._base = base_total  # the column's positive sum, when the caller summed every column at once
        self._total: float | None = None

    def __getitem__(self, item: int) -> float:
        if item in self._exact:
            return self._exact[item]
        return float(self._values[self._at[item]])

    def __contains__(self, item: object) -> bool:
        return item in self._exact or item in self._at

    def __iter__(self) -> Iterator[int]:
        yield from self._at
        yield from (i for i in self._exact if i not in self._at)

    def __len__(self) -> int:
        return len(self._at) + sum(1 for i in self._exact if i not in self._at)

    def with_exact(self, exact: Mapping[int, float]) -> "Contributions":
        """These contributions with ``exact`` values replacing (or adding to) the column's."""
        return Contributions(self._at, self._values, {**self._exact, **exact}, self._base)

    def positive_total(self) -> float:
        """The sum of the positive contributions (exact values where given)."""
        if self._total is None:
            v = self._values
            total = float(v[v > 0].sum()) if self._base is None else self._base
            for item, value in self._exact.items():
                old = float(v[self._at[item]]) if item in self._at else 0.0
                total += max(value, 0.0) - max(old, 0.0)
            self._total = total
        return self._total


@dataclass
class Recommender:
    version: str
    item_ids: np.ndarray          # external ids in index order
    components: Components
    params: BlendParams
    positive_rating: float
    embeddings: np.ndarray        # (n_items, d) float32, L2-normalised; zero rows = no embedding
    attr_index: dict[str, int]    # "Label:key" -> attribute index
    attr_relations: dict[str, str]  # "Label:key" -> the relation it is most often reached by
    #: items new in the data: first interaction within NEW_ITEM_DAYS of the newest one, or none at all
    new: np.ndarray | None = None

    @classmethod
    def load(cls, model_dir: Path | str) -> "Recommender":
        model_dir = Path(model_dir)
        manifest = read_manifest(model_dir)
        data = Dataset.load(model_dir)
        rel_counts: dict[str, dict[str, int]] = {}
        for a, r in zip(data.fact_attrs.tolist(), data.fact_relations.tolist()):
            counts = rel_counts.setdefault(data.attr_keys[a], {})
            counts[data.relations[r]] = counts.get(data.relations[r], 0) + 1
        return cls(
            version=manifest["version"],
            item_ids=data.item_ids,
            components=load_components(model_dir),
            params=BlendParams(**manifest["blend"]),
            positive_rating=float(manifest["positive_rating"]),
            embeddings=np.load(model_dir / "item_embeddings.npy"),
            attr_index={k: n for n, k in enumerate(data.attr_keys)},
            attr_relations={k: max(c, key=c.get) for k, c in rel_counts.items()},
            new=new_items(data),
        )

    # -- profiles ------------------------------------------------------------------------------
    def _profile(self, profile: Profile, weighted: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(item indexes, weights, external ids) of the profile items this model knows; ``weighted``: only
        those of non-zero weight (``live``)."""
        if len(profile) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, np.zeros(0, dtype=np.float32), empty
        ids, ratings, ts = profile_arrays(profile)
        pos = np.minimum(np.searchsorted(self.item_ids, ids), len(self.item_ids) - 1)
        known = self.item_ids[pos] == ids
        w = profile_weights(ratings[known], ts[known], self.params, self.positive_rating)
        if weighted:
            keep = live(w)
            return pos[known][keep], w[keep], ids[known][keep]
        return pos[known], w, ids[known]

    def score_profile(self, profile: Profile, scales: dict[str, float] | None = None,
                      parts: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """The hybrid score of every catalogue item (``item_ids`` order) for this profile.
        An empty profile gets the popularity prior alone. ``scales`` receives each term's standard
        deviation, which ``contributions_many`` needs (pass it there to skip scoring again); ``parts``
        receives each term's standardised scores."""
        items, w, _ = self._profile(profile, weighted=True)
        if len(items) == 0:
            return self.components.score_one(items, w, ["popularity"], scales)["popularity"]
        names = [n for n in COMPONENTS if self.params.weights.get(n)]
        terms = self.components.score_one(items, w, names, scales)
        if self.params.weights.get(SOCIAL):
            terms[SOCIAL] = self.social_term(getattr(profile, "network", None) or {})
        if parts is not None:
            parts.update(terms)
        return blend(terms, self.params.weights)

    def social_term(self, network: dict[int, int]) -> np.ndarray:
        """The standardised social term: how many of the user's network liked each item (``network``: item id
        -> people, read with the profile)."""
        counts = np.zeros(len(self.item_ids), dtype=np.float32)
        if network:
            ids = np.fromiter(network, dtype=np.int64, count=len(network))
            pos = np.minimum(np.searchsorted(self.item_ids, ids), len(self.item_ids) - 1)
            known = self.item_ids[pos] == ids
            counts[pos[known]] = np.fromiter(network.values(), dtype=np.float32, count=len(network))[known]
        return standardize(counts)

    def content_scores(self, profile: Profile) -> np.ndarray:
        """The knowledge-graph attribute term alone, standardised over the catalogue (z-scores): how well
        each item's attributes match the profile's, whatever its interactions."""
        items, w, _ = self._profile(profile, weighted=True)
        return self.components.score_one(items, w, ["kgattr"])["kgattr"]

    def recommend(self, profile: Profile, k: int = 10, exclude: set[int] | None = None) -> list[tuple[int, float]]:
        """The ``k`` best items, without the profile's items and ``exclude``; best first."""
        if k <= 0:
            return []
        scores = self.score_profile(profile).astype(np.float64)
        drop = {int(p[0]) for p in profile} | set(exclude or ())
        if drop:
            ids = np.fromiter(drop, dtype=np.int64)
            pos = np.minimum(np.searchsorted(self.item_ids, ids), len(self.item_ids) - 1)
            scores[pos[self.item_ids[pos] == ids]] = -np.inf
        k = min(k, int(np.isfinite(scores).sum()))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.lexsort((self.item_ids[top], -scores[top]))][:k]
        return [(int(self.item_ids[i]), float(scores[i])) for i in top]

    def contributions(self, profile: Profile, item_id: int) -> Contributions:
        """How much each profile item adds to ``item_id``'s blended score. The EASE, LightGCN and
        KG-attribute terms are sums over the profile, so each item's share is exact; the PyKEEN term
        is not, so its share is the score drop when that item leaves the profile."""
        return self.contributions_many(profile, [item_id])[item_id]

    def contributions_many(self, profile: Profile, item_ids: Sequence[int],
                           scales: dict[str, float] | None = None) -> dict[int, Contributions]:
        """``contributions`` of several items, computed together. The per-term scales (a catalogue
        scoring each) come from ``scales`` as ``score_profile`` filled it for this profile, else are
        computed here."""
        targets = np.array([self.index_of(i) for i in item_ids], dtype=np.int64)
        items, w, ids = self._profile(profile)
        if len(items) == 0:
            return {i: {} for i in item_ids}
        weights = self.params.weights
        # every blend term that scores from the profile (ranking/components.py), through its own contributions
        names = [n for n, term in TERMS.items() if term.from_profile and weights.get(n)]
        keep = live(w)  # a zero-weight item adds nothing to any term (its rows stay 0)
        items_w, w_w = items[keep], w[keep]
        scales = {n: scales[n] if scales and n in scales else self._scale(n, items_w, w_w) for n in names}
        raw = self.components.contributions(items_w, w_w, targets, names)  # term -> (profile item, target) shares
        out = np.zeros((len(items), len(targets)), dtype=np.float64)
        for name, vals in raw.items():
            out[keep] += weights[name] * vals / scales[name]
        at = {i: n for n, i in enumerate(ids.tolist())}
        columns = np.ascontiguousarray(out.T)
        totals = np.maximum(columns, 0.0).sum(1).tolist()
        return {i: Contributions(at, columns[n], base_total=totals[n]) for n, i in enumerate(item_ids)}

    def _scale(self, name: str, items: np.ndarray, w: np.ndarray) -> float:
        """The standard deviation the term was divided by when this profile was scored."""
        return term_scale(self.components.term(name).score(items, w))

    # -- items ---------------------------------------------------------------------------------
    def index_of(self, item_id: int) -> int:
        pos = int(np.searchsorted(self.item_ids, item_id))
        if pos >= len(self.item_ids) or self.item_ids[pos] != item_id:
            raise UnknownItem(item_id)
        return pos

    def item_vectors(self, indexes: np.ndarray) -> np.ndarray:
        """The published embeddings of catalogue positions ``indexes`` (zero rows: no embedding)."""
        return self.embeddings[np.asarray(indexes, dtype=np.int64)]

    def similar_items(self, item_id: int, k: int = 10) -> list[tuple[int, float]]:
        """Nearest items by cosine of the published embeddings (the in-memory twin of the vector index)."""
        v = self.embeddings[self.index_of(item_id)]
        if not v.any() or k <= 0:
            return []
        sims = self.embeddings @ v
        sims[self.index_of(item_id)] = -np.inf
        sims[~self.embeddings.any(1)] = -np.inf
        k = min(k, int(np.isfinite(sims).sum()))
        top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        top = top[np.lexsort((self.item_ids[top], -sims[top]))][:k]
        return [(int(self.item_ids[i]), float(sims[i])) for i in top]

    def popular(self, k: int = 10) -> list[tuple[int, float]]:
        """The items most interacted with in training, with their interaction counts."""
        counts = self.components.popularity
        top = np.lexsort((self.item_ids, -counts))[:max(k, 0)]
        return [(int(self.item_ids[i]), float(counts[i])) for i in top]

    def score_new_item(self, profile: Profile, attributes: Iterable[str | tuple[str, str]]) -> float:
        """``score_new_items`` for one item."""
        return self.score_new_items(profile, [attributes])[0]

    def score_new_items(self, profile: Profile, attributes: Sequence[Iterable[str | tuple[str, str]]]) -> list[float]:
        """The hybrid score, on the scale of ``score_profile``, of each item that is not in the model
        (added after training) known only by its attribute nodes: keys like ``"Brand:Acme"`` or
        ``"Person:jane-doe"``, optionally as ``(relation, key)`` pairs. Its KG-attribute vector and its
        PyKEEN embedding (from its neighbours' embeddings) are scored against the profile; the
        collaborative terms have no evidence and give it the catalogue average. Unknown attribute keys are
        ignored; with none known an item gets the average. The profile's catalogue-wide scores (what each
        term is standardised by) are computed once for all the items."""
        items, w, _ = self._profile(profile, weighted=True)
        if len(items) == 0:
            return [0.0] * len(attributes)
        c, weights = self.components, self.params.weights
        kg = kge = pop = None
        if weights.get("kgattr"):
            kg = _moments(c.kgattr.score_profile(items, w))
        if weights.get("kge"):
            q = c.kge.query(items, w)
            kge = (q, *_moments(c.kge.score_query(q, floor=stat_columns(len(self.item_ids)))))
        if weights.get("popularity"):
            mean, sd = _moments(np.log1p(c.popularity))
            pop = weights["popularity"] * (0.0 - mean) / sd
        out = []
        for attrs_of_item in attributes:
            pairs = [(a if isinstance(a, tuple) else (self.attr_relations.get(a, ""), a)) for a in attrs_of_item]
            known = [(r or self.attr_relations.get(k, ""), self.attr_index[k]) for r, k in pairs if k in self.attr_index]
            if not known:
                out.append(0.0)
                continue
            attrs = np.array([a for _, a in known])
            total = 0.0
            if kg is not None:
                s = c.kgattr.score_item(c.kgattr.item_vector(attrs), items, w)
                total += weights["kgattr"] * (s - kg[0]) / kg[1]
            emb = c.kge.item_from_attributes(attrs, [r for r, _ in known]) if kge is not None else None
            if emb is not None:
                probe = type(c.kge)(c.kge.model, emb[None, :], np.array([True]), c.kge.attr_emb, c.kge.attr_known,
                                    c.kge.relation_emb)
                total += weights["kge"] * (float(probe.score_query(kge[0])[0]) - kge[1]) / kge[2]
            if pop is not None:
                total += pop
            out.append(float(total))
        return out


def _moments(s: np.ndarray) -> tuple[float, float]:
    """A catalogue vector's (mean, standard deviation) as it is standardised with (ranking/standard.py)."""
    mean, sd = moments(s)
    return float(mean.ravel()[0]), float(sd.ravel()[0])
