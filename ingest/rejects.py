"""Rows that could not be loaded: written to a CSV file (file, line, reason, raw text) and counted."""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import TextIO


class Rejects:
    """Collects rejected rows; the file is created on the first reject only."""

    def __init__(self, path: Path):
        self.path = path
        self.by_file: Counter[str] = Counter()
        self.by_reason: Counter[str] = Counter()
        self._fh: TextIO | None = None
        self._writer: csv.writer | None = None  # type: ignore[valid-type]

    @property
    def total(self) -> int:
        return sum(self.by_file.values())

    def add(self, file: str, line: int, reason: str, raw: str = "") -> None:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "w", newline="", encoding="utf-8", errors="backslashreplace")
            self._writer = csv.writer(self._fh)
            self._writer.writerow(["file", "line", "reason", "raw"])
        self._writer.writerow([file, line, reason, raw[:1000]])
        self.by_file[file] += 1
        self.by_reason[reason.split(":")[0]] += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            self._writer = None

    def __enter__(self) -> "Rejects":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
