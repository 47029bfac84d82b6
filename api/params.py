"""Parsing of path and query parameters and JSON bodies; every failure is a BadRequest (HTTP 400)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kgrec.api.errors import BadRequest

#: the database stores ids as 64-bit integers
MAX_ID = 2**63 - 1


def parse_id(raw: str, what: str) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BadRequest(f"{what} id must be an integer, got {raw!r}") from None
    if not 0 <= value <= MAX_ID:
        raise BadRequest(f"{what} id must be between 0 and {MAX_ID}")
    return value


def number_arg(args: Mapping[str, str], name: str, default: float, low: float, high: float,
               kind: type = int) -> Any:
    """A query parameter parsed as ``kind`` (int or float) within [low, high]; nan is refused too."""
    raw = args.get(name)
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise BadRequest(f"{name} must be {'an integer' if kind is int else 'a number'}, got {raw!r}") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}, got {raw}")
    return value


def int_arg(args: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    return number_arg(args, name, default, low, high, int)


def float_arg(args: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    return number_arg(args, name, default, low, high, float)


def bool_arg(args: Mapping[str, str], name: str, default: bool) -> bool:
    raw = args.get(name)
    if raw is None:
        return default
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise BadRequest(f"{name} must be true or false, got {raw!r}")


def str_arg(args: Mapping[str, str], name: str, max_length: int = 200) -> str | None:
    raw = args.get(name)
    if raw is None:
        return None
    if not raw.strip() or len(raw) > max_length:
        raise BadRequest(f"{name} must be a non-empty string of at most {max_length} characters")
    return raw


def json_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body
