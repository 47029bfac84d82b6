"""Cypher lives in ``cypher/*.cypher`` files; code loads it by name, never builds it from input."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

CYPHER_DIR = Path(__file__).resolve().parents[1] / "cypher"
_NAME = re.compile(r"^[a-z0-9_]+(/[a-z0-9_]+)*$")


@lru_cache(maxsize=None)
def load(name: str) -> str:
    """The text of ``cypher/<name>.cypher`` (``name`` may contain ``/`` for sub-folders)."""
    if not _NAME.match(name):
        raise ValueError(f"not a Cypher file name: {name!r}")
    path = CYPHER_DIR / f"{name}.cypher"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyError(f"no Cypher file {path}") from None
    return strip_comments(text).strip().rstrip(";").strip()


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
