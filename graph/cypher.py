"""Cypher lives in ``cypher/*.cypher`` files; code loads it by name, never builds it from input."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

CYPHER_DIR = Path(__file__).resolve().parents[1] / "cypher"
_NAME = re.compile(r"^[a-z0-9_]+(/[a-z0-9_]+)*$")
#: a label, relationship type or property name a template may receive (from a validated catalogue schema)
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_SLOT = re.compile(r"\{\{(\w+)\}\}")


class Rendered(str):
    """A statement already rendered from a template (see :func:`render`); ``load`` returns it as is."""


class AnyOf(tuple):
    """Relationship types a template's slot matches any of: rendered ```A`|`B```."""


@lru_cache(maxsize=None)
def load(name: str) -> str:
    """The text of ``cypher/<name>.cypher`` (``name`` may contain ``/`` for sub-folders)."""
    if isinstance(name, Rendered):
        return str(name)
    if not _NAME.match(name):
        raise ValueError(f"not a Cypher file name: {name!r}")
    path = CYPHER_DIR / f"{name}.cypher"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyError(f"no Cypher file {path}") from None
    return strip_comments(text).strip().rstrip(";").strip()


@lru_cache(maxsize=None, typed=True)  # typed: an AnyOf and a tuple of the same names render differently
def render(template: str, /, **identifiers: str | tuple[str, ...]) -> Rendered:
    """``cypher/<name>.cypher`` with each ``{{slot}}`` replaced by a back-quoted identifier (a tuple of
    labels becomes ```A`:`B```, an :class:`AnyOf` of relationship types ```A`|`B```).

    Writes need labels and relationship types the catalogue schema names (``MERGE`` with a dynamic
    label cannot use the index its uniqueness constraint gives); values still travel as parameters, and
    an identifier is checked to be a plain name, so nothing from data reaches the statement's text."""
    text = load(template)
    quoted: dict[str, str] = {}
    for slot_name, value in identifiers.items():
        values = (value,) if isinstance(value, str) else tuple(value)
        if not values or not all(_IDENTIFIER.match(v) for v in values):
            raise ValueError(f"not a label/type name: {value!r}")
        quoted[slot_name] = ("|" if isinstance(value, AnyOf) else ":").join(f"`{v}`" for v in values)

    def slot(match: re.Match[str]) -> str:
        try:
            return quoted[match[1]]
        except KeyError:
            raise KeyError(f"cypher/{template}.cypher needs {{{{{match[1]}}}}}") from None

    return Rendered(_SLOT.sub(slot, text))


@lru_cache(maxsize=None)
def statements(name: str) -> tuple[str, ...]:
    """The statements of a multi-statement file, split on ``;`` at the end of a line."""
    return split_statements((CYPHER_DIR / f"{name}.cypher").read_text(encoding="utf-8"))


def split_statements(text: str) -> tuple[str, ...]:
    """Statements of a Cypher script, split on ``;`` at the end of a line, comments dropped."""
    parts = re.split(r";\s*(?:\n|$)", strip_comments(text))
    return tuple(p.strip() for p in parts if p.strip())


def strip_comments(text: str) -> str:
    """Drop ``//`` line comments (whole lines only, so URLs inside strings survive)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))
