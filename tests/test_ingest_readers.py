"""The row checks that send bad rows to the rejects file (no database needed)."""
from __future__ import annotations

from pathlib import Path

import pytest

from kgrec.ingest import names
from kgrec.ingest.readers import SourceError, Table, parse_rows, to_int
from kgrec.ingest.rejects import Rejects


def test_each_bad_row_is_rejected_with_file_line_and_reason(tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_bytes(b'a,b\n1,2\n"x\ny",3\n4\n5,six\n\xff,7\n8,9\n')
    rejects = Rejects(tmp_path / "rejects.csv")
    counts: dict[str, int] = {}
    rows = list(parse_rows(Table(path, "r.csv", columns=("a", "b")), rejects,
                           lambda r: (r["a"], to_int(r["b"], "b")), counts))
    rejects.close()
    assert rows == [("1", 2), ("x\ny", 3), ("8", 9)]  # a quoted line break is one record
    assert counts == {"r.csv": 6}
    lines = (tmp_path / "rejects.csv").read_text().splitlines()
    assert lines[0] == "file,line,reason,raw"
    assert lines[1].startswith("r.csv,5,wrong column count: 1 instead of 2")
    assert lines[2].startswith("r.csv,6,bad number: b='six' is not an integer")
    assert lines[3].startswith("r.csv,7,bad encoding")
    assert rejects.total == 3 and rejects.by_reason == {"wrong column count": 1, "bad number": 1, "bad encoding": 1}


def test_latin1_tsv_without_quotes(tmp_path: Path):
    path = tmp_path / "d.dat"
    path.write_bytes('id\tname\n1\tDoris D\xf6rrie\n2\t"quoted" title\n'.encode("latin-1"))
    rejects = Rejects(tmp_path / "rej.csv")
    rows = list(parse_rows(Table(path, "d.dat", delimiter="\t", encoding="latin-1", quoted=False, columns=("id",)),
                           rejects, lambda r: r["name"]))
    assert rows == ["Doris Dörrie", '"quoted" title'] and rejects.total == 0
    assert not (tmp_path / "rej.csv").exists()  # no file without rejects


def test_missing_file_or_column_is_a_source_error(tmp_path: Path):
    rejects = Rejects(tmp_path / "rej.csv")
    with pytest.raises(SourceError, match="file not found"):
        list(parse_rows(Table(tmp_path / "nope.csv", "nope.csv"), rejects, lambda r: r))
    (tmp_path / "h.csv").write_text("a,b\n1,2\n")
    with pytest.raises(SourceError, match="missing column"):
        list(parse_rows(Table(tmp_path / "h.csv", "h.csv", columns=("a", "c")), rejects, lambda r: r))


def test_person_ids_are_name_slugs():
    assert names.slug(" Doris  Dörrie ") == names.slug("Doris Dorrie") == "doris-dorrie"
    assert names.slug("Robert Downey Jr.") == "robert-downey-jr"
    assert names.tag_name("  Christopher   NOLAN ") == "christopher nolan"
