"""Name normalisation shared by every source, so the same person or tag from two files is one node."""
from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case, accents removed, whitespace collapsed: ``" Doris  Dörrie"`` -> ``"doris dorrie"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_ish = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(ascii_ish.lower().split())


def slug(text: str) -> str:
    """A stable id from a name: ``"Doris Dörrie"`` -> ``"doris-dorrie"`` (empty when nothing is left)."""
    return _NON_ALNUM.sub("-", fold(text)).strip("-")


def clean(text: str) -> str:
    """Display form: surrounding and repeated whitespace removed, case kept."""
    return " ".join(text.split())


def tag_name(text: str) -> str:
    """The aggregated ``Tag`` node's name: folded case and whitespace, accents kept."""
    return " ".join(text.lower().split())
