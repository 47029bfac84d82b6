"""A catalogue schema: one TOML file says what an item's attributes are, how they link, how a reason is
phrased, and which interaction signals exist. Ingest, training facts, explanation discovery, the path
fetch and rendering all read it; nothing downstream knows which catalogue it serves.

Loaded once into frozen dataclasses; a bad file is a :class:`SchemaError` naming the key at fault.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

#: a Neo4j label or relationship type the schema may name: it is put into Cypher text (as an identifier,
#: backquoted), so it must be a plain identifier
IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
#: shipped schemas: catalogues/schemas/<name>.toml (package data of kgrec.catalogue)
SHIPPED = ("movies", "products", "music")


class SchemaError(ValueError):
    """A catalogue schema that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Attribute:
    """One kind of item attribute: a CSV column's values become nodes linked to the item."""

    name: str                    # the kind of link an explanation reports ("director", "brand")
    columns: tuple[str, ...]     # CSV column names that hold it (case-insensitive)
    label: str                   # node label ("Person")
    key: str                     # "id" (a slug of the value, the value kept in `name`) or "name"
    relationship: str            # relationship type ("MADE_BY")
    direction: str               # "in": (node)-[rel]->(item); "out": (item)-[rel]->(node)
    phrase: str                  # "{item} is also directed by {name}" ({a}: "a"/"an" for {name})
    broad: bool = False          # genre-like: thousands of items share one node
    ordered: bool = False        # keep the cell's position as `order` on the relationship
    salient: int | None = None   # with ordered: positions after this are minor roles
    fold_case: bool = False      # node names in lower case ("Dark Humor" and "dark humor" are one)
    builtin: bool = False        # tags, entities and other columns: every catalogue has them

    @property
    def outgoing(self) -> bool:
        return self.direction == "out"


@dataclass(frozen=True)
class Event:
    """An implicit or negative signal kind ("play", "purchase", "return")."""

    name: str
    strength: float              # on the catalogue's value scale
    negative: bool = False       # never a positive; pushes the item and what resembles it down
    counted: bool = False        # value = strength x (1 + ln count)
    phrase: str = "You chose {liked}"


@dataclass(frozen=True)
class Rating:
    min: float
    max: float
    step: float | None
    positive: float
    phrase: str = "You rated {liked} {stars}"


@dataclass(frozen=True)
class Signals:
    relationship: str            # the (:User)-[...]->(:Item) type every interaction of this catalogue uses
    rating: Rating | None
    events: dict[str, Event]
    positive: float              # a value at or above this is a positive (a like)


@dataclass(frozen=True)
class Social:
    name_people: bool = False    # may an explanation name the other users (off: counts only)
    phrase: str = "{item} is liked by {people} in your network"  # {people}: "1 person" / "3 people"; {n}: 3


#: the links every catalogue has, whatever its file says: tags users wrote, entities found in the item's
#: text, and CSV columns the schema does not declare (generic attributes). Their order is after the
#: declared ones: a declared, structural link names a node before a tag or a mention of it does.
BUILTIN = (
    Attribute("tag", (), "Tag", "name", "HAS_TAG", "out", "both are tagged \u201c{name}\u201d", builtin=True),
    Attribute("entity", (), "Entity", "id", "MENTIONS", "out", "both mention {name}", builtin=True),
    Attribute("attribute", (), "Attribute", "id", "HAS_ATTRIBUTE", "out", "{item} also has {name}", builtin=True),
)
#: relationship types kgrec itself uses between users and items or users; a schema may not reuse them
RESERVED_TYPES = {"TAGGED", "CO_LIKED", "FOLLOWS", "FRIEND"}
SOCIAL_KINDS = {"follows": "FOLLOWS", "friend": "FRIEND"}
RESERVED_LABELS = {"User", "Item", "GraphState", "ModelVersion", "RefreshRun", "RefreshLock"}


@dataclass(frozen=True)
class Catalogue:
    name: str
    item_labels: tuple[str, ...]   # beside :Item
    item_properties: tuple[str, ...]  # item properties beside id, title, text (CSV columns of that name)
    text_fields: tuple[str, ...]
    title_article_suffix: bool
    category: str | None           # the attribute the category filter uses
    attributes: tuple[Attribute, ...]  # declared ones first (most structural first), then BUILTIN
    entity_links: dict[str, str]   # spaCy label -> attribute node label
    signals: Signals
    social: Social
    source: str = field(default="", repr=False, compare=False)  # the TOML text, stored in the graph

    # -- lookups used everywhere ---------------------------------------------------------------
    @cached_property
    def by_name(self) -> dict[str, Attribute]:
        return {a.name: a for a in self.attributes}

    @cached_property
    def by_relationship(self) -> dict[str, Attribute]:
        return {a.relationship: a for a in self.attributes}

    @cached_property
    def attribute_types(self) -> list[str]:
        """Relationship types that link an item to an attribute node (Cypher gets them as a parameter)."""
        return [a.relationship for a in self.attributes]

    @cached_property
    def attribute_labels(self) -> list[str]:
        """Attribute node labels, most specific first (a Person that is also an Entity is a Person)."""
        seen: list[str] = []
        for a in self.attributes:
            if a.label not in seen and a.label != "Entity":
                seen.append(a.label)
        return seen + ["Entity"]

    @cached_property
    def linkable_labels(self) -> list[str]:
        """Labels of the declared attributes: the nodes an entity found in text may be, in linking priority
        (a name two labels share links to the first): those ``[entities] link`` names, in its order, then
        the others in the schema's order."""
        return list(dict.fromkeys([*self.entity_links.values(), *(a.label for a in self.attributes if not a.builtin)]))

    @cached_property
    def key_by_label(self) -> dict[str, str]:
        """The property that identifies a node of each label (its uniqueness constraint)."""
        keys = {"User": "id", "Item": "id", **{label: "id" for label in self.item_labels}}
        for a in self.attributes:
            keys.setdefault(a.label, a.key)
        return keys

    @cached_property
    def label_order(self) -> list[str]:
        """Which label names a node that has several (an item's own label before Item)."""
        return ["User", *self.item_labels, "Item", *self.attribute_labels]

    @cached_property
    def id_labels(self) -> list[str]:
        return [label for label, key in self.key_by_label.items() if key == "id" and label not in ("User", "Item")]

    @cached_property
    def rank(self) -> dict[str, int]:
        """Structural rank of each kind of link (lower = named first when one node is reached twice)."""
        return {a.name: n for n, a in enumerate(self.attributes)}

    @cached_property
    def rank_by_relationship(self) -> dict[str, int]:
        """``rank`` by the relationship type that makes the link (a type no attribute has: not here)."""
        return {t: self.rank[a.name] for t, a in self.by_relationship.items()}

    def attribute_for_column(self, column: str) -> Attribute | None:
        wanted = column.strip().lower()
        for a in self.attributes:
            if wanted in a.columns:
                return a
        return None

    def labels_of_item(self) -> list[str]:
        return [*self.item_labels, "Item"]

    def describe(self) -> dict[str, Any]:
        """What the API's ``GET /catalogue`` returns."""
        s = self.signals
        return {
            "name": self.name,
            "item": {"labels": self.labels_of_item()},
            "signals": {
                "relationship": s.relationship,
                "positive": s.positive,
                "rating": None if s.rating is None else {"min": s.rating.min, "max": s.rating.max,
                                                          "step": s.rating.step, "positive": s.rating.positive},
                "events": [{"name": e.name, "negative": e.negative, "counted": e.counted, "strength": e.strength}
                           for e in s.events.values()],
            },
            "attributes": [{"name": a.name, "label": a.label, "relationship": a.relationship, "broad": a.broad,
                            "columns": list(a.columns)} for a in self.attributes if not a.builtin],
            "category": self.category,
            "social": {"name_people": self.social.name_people},
        }


# -- loading -------------------------------------------------------------------------------------
def load(name_or_path: str | Path) -> Catalogue:
    """A shipped schema by name (``movies``, ``products``, ``music``) or a TOML file by path."""
    text, where = _read(name_or_path)
    return parse(text, where)


def _read(name_or_path: str | Path) -> tuple[str, str]:
    if isinstance(name_or_path, str) and name_or_path in SHIPPED:
        ref = resources.files("kgrec.catalogue").joinpath("schemas", f"{name_or_path}.toml")
        return ref.read_text(encoding="utf-8"), f"{name_or_path}.toml"
    path = Path(name_or_path)
    if not path.is_file():
        raise SchemaError(f"no catalogue schema {name_or_path!r}: give one of {', '.join(SHIPPED)} or a TOML file")
    return path.read_text(encoding="utf-8"), str(path)


def parse(text: str, where: str = "<schema>") -> Catalogue:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SchemaError(f"{where}: not valid TOML: {exc}") from None
    r = _Reader(doc, where)
    name = r.text("name")
    item = r.table("item")
    item_labels = tuple(r.identifiers(item, "item.labels", default=[]))
    for label in item_labels:
        if label in RESERVED_LABELS:
            raise SchemaError(f"{where}: item.labels: {label!r} is kgrec's own label")
    attributes = tuple(_attribute(r, a, f"attribute[{n}]") for n, a in enumerate(r.list_of_tables("attribute")))
    names = [a.name for a in attributes]
    for a in attributes:
        if names.count(a.name) > 1:
            raise SchemaError(f"{where}: attribute name {a.name!r} appears twice")
        if a.relationship in RESERVED_TYPES or a.relationship in {b.relationship for b in BUILTIN}:
            raise SchemaError(f"{where}: attribute {a.name!r}: relationship {a.relationship!r} is kgrec's own")
        if a.label in RESERVED_LABELS or a.label in item_labels:
            raise SchemaError(f"{where}: attribute {a.name!r}: label {a.label!r} is taken")
    rels = [a.relationship for a in attributes]
    if len(set(rels)) != len(rels):
        raise SchemaError(f"{where}: each attribute needs its own relationship type, got {rels}")
    category = r.optional_str(item, "item.category")
    if category is not None and category not in names:
        raise SchemaError(f"{where}: item.category: {category!r} is not an attribute (have {names})")
    entities = r.table("entities", required=False)
    links = r.get(entities, "entities.link", dict, {})
    labels = {a.label for a in attributes}
    for spacy_label, label in links.items():
        if label not in labels:
            raise SchemaError(f"{where}: entities.link.{spacy_label}: {label!r} is no attribute's label")
    r.unknown(entities, "entities", {"link"})
    signals = _signals(r, r.table("signals"))
    social_t = r.table("social", required=False)
    social = Social(name_people=r.get(social_t, "social.name_people", bool, False),
                    phrase=r.get(social_t, "social.phrase", str, Social.phrase))
    _check_phrase(r, social.phrase, "social.phrase", {"n", "people", "item"})
    r.unknown(social_t, "social", {"name_people", "phrase"})
    r.unknown(item, "item", {"labels", "properties", "text", "title_article_suffix", "category"})
    properties = tuple(r.get(item, "item.properties", list, []))
    for p in properties:
        if not isinstance(p, str) or not re.match(r"^[a-z][a-z0-9_]*$", p):
            raise SchemaError(f"{where}: item.properties: {p!r} must be lower_case letters, digits, _")
    text_fields = tuple(r.get(item, "item.text", list, []))
    for f in text_fields:
        if f != "text" and f not in properties:
            raise SchemaError(f"{where}: item.text: {f!r} is not one of item.properties")
    r.unknown(doc, "", {"name", "item", "attribute", "entities", "signals", "social"})
    return Catalogue(
        name=name, item_labels=item_labels, item_properties=properties, text_fields=text_fields,
        title_article_suffix=r.get(item, "item.title_article_suffix", bool, False),
        category=category, attributes=attributes + BUILTIN,
        entity_links={str(k).upper(): str(v) for k, v in links.items()},
        signals=signals, social=social, source=text)


_ATTRIBUTE_KEYS = {"name", "columns", "label", "key", "relationship", "direction", "phrase", "broad", "ordered",
                   "salient", "fold_case"}


def _attribute(r: "_Reader", t: dict[str, Any], where: str) -> Attribute:
    r.unknown(t, where, _ATTRIBUTE_KEYS)
    name = r.get(t, f"{where}.name", str)
    if not re.match(r"^[a-z][a-z0-9_]*$", name):
        raise SchemaError(f"{r.where}: {where}.name: {name!r} must be lower_case letters, digits, _")
    key = r.get(t, f"{where}.key", str, "name")
    if key not in ("id", "name"):
        raise SchemaError(f"{r.where}: {where}.key must be \"id\" or \"name\", got {key!r}")
    direction = r.get(t, f"{where}.direction", str, "out")
    if direction not in ("in", "out"):
        raise SchemaError(f"{r.where}: {where}.direction must be \"in\" or \"out\", got {direction!r}")
    phrase = r.get(t, f"{where}.phrase", str)
    _check_phrase(r, phrase, f"{where}.phrase", {"item", "name", "a"})
    salient = r.get(t, f"{where}.salient", int, None)
    if salient is not None and salient < 1:
        raise SchemaError(f"{r.where}: {where}.salient must be at least 1")
    columns = [str(c).strip().lower() for c in r.get(t, f"{where}.columns", list, [name])]
    return Attribute(name=name, columns=tuple(columns), label=r.identifier(t, f"{where}.label"), key=key,
                     relationship=r.identifier(t, f"{where}.relationship"), direction=direction, phrase=phrase,
                     broad=r.get(t, f"{where}.broad", bool, False), ordered=r.get(t, f"{where}.ordered", bool, False),
                     salient=salient, fold_case=r.get(t, f"{where}.fold_case", bool, False))


def _signals(r: "_Reader", t: dict[str, Any]) -> Signals:
    r.unknown(t, "signals", {"relationship", "rating", "events", "positive"})
    relationship = r.identifier(t, "signals.relationship")
    if relationship in RESERVED_TYPES:
        raise SchemaError(f"{r.where}: signals.relationship: {relationship!r} is kgrec's own")
    rating = None
    if "rating" in t:
        rt = r.get(t, "signals.rating", dict)
        r.unknown(rt, "signals.rating", {"min", "max", "step", "positive", "phrase"})
        lo, hi = r.get(rt, "signals.rating.min", (int, float)), r.get(rt, "signals.rating.max", (int, float))
        if not 0 <= lo < hi:
            raise SchemaError(f"{r.where}: signals.rating: need 0 <= min < max, got {lo}..{hi}")
        positive = r.get(rt, "signals.rating.positive", (int, float))
        if not lo <= positive <= hi:
            raise SchemaError(f"{r.where}: signals.rating.positive must lie in {lo}..{hi}")
        phrase = r.get(rt, "signals.rating.phrase", str, Rating.phrase)
        _check_phrase(r, phrase, "signals.rating.phrase", {"liked", "stars", "rating"})
        rating = Rating(float(lo), float(hi), r.get(rt, "signals.rating.step", (int, float), None), float(positive),
                        phrase)
    events: dict[str, Event] = {}
    for name, et in r.get(t, "signals.events", dict, {}).items():
        where = f"signals.events.{name}"
        if not re.match(r"^[a-z][a-z0-9_]*$", name):
            raise SchemaError(f"{r.where}: {where}: event names are lower_case letters, digits, _")
        if not isinstance(et, dict):
            raise SchemaError(f"{r.where}: {where} must be a table")
        r.unknown(et, where, {"strength", "negative", "counted", "phrase"})
        strength = float(r.get(et, f"{where}.strength", (int, float), 1.0))
        if strength <= 0:
            raise SchemaError(f"{r.where}: {where}.strength must be positive (negative = true marks a negative kind)")
        phrase = r.get(et, f"{where}.phrase", str, Event.phrase)
        _check_phrase(r, phrase, f"{where}.phrase", {"liked", "count", "times"})
        events[name] = Event(name, strength, r.get(et, f"{where}.negative", bool, False),
                             r.get(et, f"{where}.counted", bool, False), phrase)
    if rating is None and not any(not e.negative for e in events.values()):
        raise SchemaError(f"{r.where}: signals: declare a rating scale or at least one positive event kind")
    if rating is not None:
        positive = r.get(t, "signals.positive", (int, float), rating.positive)
    else:
        positive = r.get(t, "signals.positive", (int, float))
    return Signals(relationship, rating, events, float(positive))


def _check_phrase(r: "_Reader", phrase: str, where: str, allowed: set[str]) -> None:
    used = set(re.findall(r"{(\w*)}", phrase))
    if used - allowed:
        raise SchemaError(f"{r.where}: {where}: unknown placeholder(s) {sorted(used - allowed)} "
                          f"(allowed: {sorted(allowed)})")


class _Reader:
    """Typed access to the parsed TOML, with errors that name the file and the key."""

    def __init__(self, doc: dict[str, Any], where: str):
        self.doc, self.where = doc, where

    def get(self, table: dict[str, Any] | None, key: str, kind: Any, default: Any = ...) -> Any:
        leaf = key.rsplit(".", 1)[-1]
        if table is None or leaf not in table:
            if default is ...:
                raise SchemaError(f"{self.where}: missing key {key!r}")
            return default
        value = table[leaf]
        if isinstance(value, bool) and kind is not bool and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise SchemaError(f"{self.where}: {key} has the wrong type (got {value!r})")
        if not isinstance(value, kind):
            want = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            raise SchemaError(f"{self.where}: {key} must be {want}, got {value!r}")
        return value

    def text(self, key: str) -> str:
        return self.get(self.doc, key, str)

    def optional_str(self, table: dict[str, Any], key: str) -> str | None:
        return self.get(table, key, str, None)

    def table(self, key: str, required: bool = True) -> dict[str, Any] | None:
        return self.get(self.doc, key, dict, ... if required else None)

    def list_of_tables(self, key: str) -> list[dict[str, Any]]:
        value = self.get(self.doc, key, list, [])
        if not all(isinstance(v, dict) for v in value):
            raise SchemaError(f"{self.where}: {key} must be an array of tables ([[{key}]])")
        return value

    def identifier(self, table: dict[str, Any], key: str) -> str:
        value = self.get(table, key, str)
        if not IDENTIFIER.match(value):
            raise SchemaError(f"{self.where}: {key}: {value!r} is not a valid label/type name (letters, digits, _)")
        return value

    def identifiers(self, table: dict[str, Any], key: str, default: list[str]) -> list[str]:
        values = self.get(table, key, list, default)
        for v in values:
            if not isinstance(v, str) or not IDENTIFIER.match(v):
                raise SchemaError(f"{self.where}: {key}: {v!r} is not a valid label name")
        return values

    def unknown(self, table: dict[str, Any] | None, where: str, allowed: set[str]) -> None:
        extra = sorted(set(table or {}) - allowed)
        if extra:
            prefix = f"{where}." if where else ""
            raise SchemaError(f"{self.where}: unknown key {prefix}{extra[0]!r} (allowed: {', '.join(sorted(allowed))})")
