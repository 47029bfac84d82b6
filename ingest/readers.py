"""Reading delimited files row by row, with the checks that send a row to the rejects file.

Every file is read as bytes and decoded per record, so one badly encoded row is rejected with its
line number while the rest of the file still loads.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from kgrec.ingest.rejects import Rejects

T = TypeVar("T")
_SURROGATE = re.compile("[\udc80-\udcff]")


class RowError(ValueError):
    """A row that cannot be loaded; the message is the reject reason."""


class SourceError(RuntimeError):
    """A whole file is unusable (missing, wrong header): nothing of it can be loaded."""


@dataclass(frozen=True)
class Table:
    """How to read one delimited file."""

    path: Path
    name: str  # the name used in rejects and summaries (path relative to the source folder)
    delimiter: str = ","
    encoding: str = "utf-8"
    quoted: bool = True  # RFC-4180 quotes; HetRec's TSV files have none (titles contain bare quotes)
    header: bool = True
    columns: tuple[str, ...] | None = None  # required header columns, or the column names when header=False


def read_rows(table: Table, rejects: Rejects, counts: dict[str, int] | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line, {column: text})`` for every well-formed record; the others go to ``rejects``.

    ``counts[table.name]`` is increased for every data record read, good or bad, so that reject
    rates can be computed.
    """
    if not table.path.is_file():
        raise SourceError(f"{table.name}: file not found ({table.path})")
    with open(table.path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding=table.encoding, errors="surrogateescape", newline="")
        reader = csv.reader(text, delimiter=table.delimiter,
                            quoting=csv.QUOTE_MINIMAL if table.quoted else csv.QUOTE_NONE, strict=False)
        if table.header:
            try:
                header = [h.strip().lstrip("\ufeff") for h in next(reader)]
            except StopIteration:
                raise SourceError(f"{table.name}: the file is empty (a header row is expected)") from None
            missing = [c for c in table.columns or () if c not in header]
            if missing:
                raise SourceError(f"{table.name}: missing column(s) {', '.join(missing)}; header is {header}")
        else:
            header = list(table.columns or ())
        width = len(header)
        clean = _decodes(table.path, table.encoding)  # then no record can hold an undecodable byte
        seen = 0
        try:
            for fields in reader:
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue  # blank line
                line = reader.line_num
                seen += 1
                if not clean:
                    raw_text = table.delimiter.join(fields)
                    if _SURROGATE.search(raw_text):
                        rejects.add(table.name, line, f"bad encoding: not valid {table.encoding}",
                                    raw_text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))
                        continue
                if len(fields) != width:
                    rejects.add(table.name, line, f"wrong column count: {len(fields)} instead of {width}",
                                table.delimiter.join(fields))
                    continue
                yield line, dict(zip(header, fields))
        finally:
            if counts is not None:
                counts[table.name] = counts.get(table.name, 0) + seen


def _decodes(path: Path, encoding: str, block: int = 1 << 24) -> bool:
    """Whether the whole file decodes strictly (read in blocks, a few ms per 10 MB): the per-record check for
    undecodable bytes is needed only when it does not."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with open(path, "rb") as raw:
            while chunk := raw.read(block):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def parse_rows(table: Table, rejects: Rejects, parse: Callable[[dict[str, str]], T],
               counts: dict[str, int] | None = None) -> Iterator[T]:
    """``read_rows`` then ``parse`` each row; a ``RowError``/``ValueError`` rejects that row only.

    ``parse`` may return None for rows that are fine but not wanted (they are neither loaded nor rejected).
    """
    for line, row in read_rows(table, rejects, counts):
        try:
            value = parse(row)
        except (RowError, ValueError) as exc:
            rejects.add(table.name, line, str(exc), table.delimiter.join(row.values()))
            continue
        if value is not None:
            yield value


# -- field parsers: each raises RowError with a reason a person can act on ---------------------
def to_int(value: str, field: str) -> int:
    text = value.strip()
    try:
        return int(text)
    except ValueError:
        raise RowError(f"bad number: {field}={value!r} is not an integer") from None


def to_float(value: str, field: str) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise RowError(f"bad number: {field}={value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise RowError(f"bad number: {field}={value!r} is not finite")
    return number


def optional_int(value: str, field: str) -> int | None:
    return to_int(value, field) if value.strip() else None


def split_list(value: str, sep: str = "|") -> list[str]:
    """``a|b| c`` -> ``['a', 'b', 'c']`` (stripped, empty parts dropped, order kept, duplicates removed)."""
    seen: dict[str, None] = {}
    for part in value.split(sep):
        part = " ".join(part.split())
        if part:
            seen.setdefault(part, None)
    return list(seen)


def require(row: dict[str, Any], field: str) -> str:
    value = (row.get(field) or "").strip()
    if not value:
        raise RowError(f"missing value: {field} is empty")
    return value
