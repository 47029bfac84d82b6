"""Erasure tombstones: ``(:ErasedUser {hash})`` holds a keyed hash of an erased user id, never the id.

The hash is HMAC-SHA256 under a secret key: ``KGREC_ERASURE_KEY`` when set, else a key generated on first
use into ``$KGREC_HOME/privacy/erasure.key`` (mode 0600). Without the key the stored hashes cannot be
matched against guessed ids (a plain hash of a small integer can). Every process that ingests or serves
must see the same key: the graph keeps a check value of it (``(:ErasureKey {check})``), and a process with
another key is refused (``ErasureKeyMismatch``) rather than silently missing every tombstone.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from kgrec.cli import CommandError
from kgrec.config import Settings
from kgrec.graph.connection import Graph

KEY_ENV = "KGREC_ERASURE_KEY"


class ErasureKeyMismatch(CommandError):
    """This process's erasure key is not the one the graph's tombstones were made with."""


def key_check(key: bytes) -> str:
    """A value that tells keys apart without revealing them."""
    return hmac.new(key, b"kgrec erasure key check", hashlib.sha256).hexdigest()[:16]


def verify(check: str | None, key: bytes, settings: Settings) -> None:
    """Refuse to go on with another key than the tombstones' (``check``: the graph's; None before any)."""
    if check is not None and check != key_check(key):
        where = f"{KEY_ENV}" if settings.extra.get(KEY_ENV) else f"the key file {key_path(settings)}"
        raise ErasureKeyMismatch(f"the erasure key ({where}) is not the one this graph's tombstones were made "
                                 f"with: erased users could not be recognised. Give every kgrec process the same "
                                 f"key ({KEY_ENV}, or the same KGREC_HOME)")


def key_path(settings: Settings) -> Path:
    return settings.home / "privacy" / "erasure.key"


def erasure_key(settings: Settings) -> bytes:
    """The HMAC key: ``KGREC_ERASURE_KEY``, else the key file (created, owner-only, on first use)."""
    given = settings.extra.get(KEY_ENV)
    if given:
        return given.encode("utf-8")
    path = key_path(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    return path.read_text().strip().encode("utf-8")


def user_hash(key: bytes, user: int) -> str:
    return hmac.new(key, str(int(user)).encode("ascii"), hashlib.sha256).hexdigest()


class Tombstones:
    """The erased users' hashes, read once; ``erased(user)`` asks about one id."""

    def __init__(self, key: bytes, hashes: set[str]):
        self.key = key
        self.hashes = hashes
        self._memo: dict[int, bool] = {}

    @classmethod
    def load(cls, graph: Graph, settings: Settings) -> "Tombstones":
        row = graph.read("privacy/tombstones")[0]
        if not row["hashes"]:  # no key file is created for a graph without tombstones (nothing to match)
            return cls(b"", set())
        key = erasure_key(settings)
        verify(row["check"], key, settings)
        return cls(key, set(row["hashes"]))

    def erased(self, user: object) -> bool:
        if not self.hashes or isinstance(user, bool) or not isinstance(user, int):
            return False
        hit = self._memo.get(user)
        if hit is None:
            hit = self._memo[user] = user_hash(self.key, user) in self.hashes
        return hit


def checked_key(graph: Graph, settings: Settings) -> bytes:
    """The erasure key, verified against the one the graph's tombstones were made with."""
    key = erasure_key(settings)
    rows = graph.read("privacy/key_check")
    verify(rows[0]["check"] if rows else None, key, settings)
    return key


def tombstone_step(key: bytes, user: int) -> tuple[str, dict[str, str]]:
    """The write that records the user's tombstone (for a transaction with the erasure itself)."""
    return "privacy/tombstone", {"hash": user_hash(key, user), "check": key_check(key)}


def erased_absent(graph: Graph, settings: Settings, user: int) -> bool:
    """True when ``user`` was erased and not re-registered: a write for that id must not recreate it."""
    key = erasure_key(settings)
    row = graph.read("privacy/erased_absent", user=user, hash=user_hash(key, user))[0]
    verify(row["check"], key, settings)
    return bool(row["erased"])


def reregister(graph: Graph, settings: Settings, user: int) -> bool:
    """The operator lets an erased id back as a new, empty user (the API may write to it again; feeds keep
    skipping it). False when the id was never erased."""
    return bool(graph.write("privacy/reregister", user=user, hash=user_hash(checked_key(graph, settings), user)))
