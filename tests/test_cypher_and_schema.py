"""`kgrec cypher`, parameter parsing, `kgrec graph init` and the light-import promise."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kgrec.cli import CommandError, main
from kgrec.graph.commands import parse_param
from kgrec.graph.connection import Graph
from kgrec.graph.schema import apply_schema, describe_schema


@pytest.mark.parametrize("text, expected", [
    ("id=1", ("id", 1)),
    ('t="1"', ("t", "1")),
    ("s=abc", ("s", "abc")),
    ("xs=[1, 2]", ("xs", [1, 2])),
    ('m={"a": true}', ("m", {"a": True})),
    ("empty=", ("empty", "")),
    ("f=1.5", ("f", 1.5)),
])
def test_param_values_are_json_when_valid(text: str, expected: tuple) -> None:
    assert parse_param(text) == expected


@pytest.mark.parametrize("text", ["noequals", "1bad=2", "=3"])
def test_bad_param_is_refused(text: str) -> None:
    with pytest.raises(CommandError):
        parse_param(text)


def test_cypher_json_and_params(cli_env: dict, capsys: pytest.CaptureFixture) -> None:
    assert main(["cypher", "RETURN 1 AS one", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"one": 1}]
    assert main(["cypher", "RETURN $id AS id, $t AS t, $s AS s", "--param", "id=1", "--param", 't="1"',
                 "-p", "s=hello world", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"id": 1, "t": "1", "s": "hello world"}]


def test_cypher_table_output(cli_env: dict, capsys: pytest.CaptureFixture) -> None:
    assert main(["cypher", "UNWIND [1, 2] AS x RETURN x, 'v' + toString(x) AS label"]) == 0
    out = capsys.readouterr().out
    assert "x | label" in out and "v2" in out and "(2 rows)" in out


def test_cypher_reads_unless_write(empty_graph: Graph, cli_env: dict, capsys: pytest.CaptureFixture) -> None:
    assert main(["cypher", "CREATE (:Probe {v: $v})", "--param", "v=7"]) == 1
    assert "write" in capsys.readouterr().err.lower()
    assert main(["cypher", "CREATE (:Probe {v: $v}) RETURN 1 AS ok", "--param", "v=7", "--write", "--json"]) == 0
    capsys.readouterr()
    assert main(["cypher", "MATCH (p:Probe) RETURN p.v AS v", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"v": 7}]


def test_cypher_syntax_error_is_reported(cli_env: dict, capsys: pytest.CaptureFixture) -> None:
    assert main(["cypher", "RETURN RETURN"]) == 1
    assert "SyntaxError" in capsys.readouterr().err


def test_schema_is_idempotent(graph: Graph, cli_env: dict, capsys: pytest.CaptureFixture) -> None:
    apply_schema(graph)
    first = describe_schema(graph)
    assert {"user_id", "item_id", "movie_id", "person_id", "genre_name"} <= set(first["constraints"])
    assert main(["graph", "init"]) == 0
    assert "schema applied" in capsys.readouterr().out
    assert describe_schema(graph) == first


def test_light_commands_do_not_import_heavy_libraries() -> None:
    code = ("import sys, kgrec.cli; kgrec.cli.build_parser(); "
            "import kgrec.graph.connection, kgrec.graph.commands; "
            "print(json.dumps(sorted(m for m in ('torch', 'pykeen', 'spacy', 'torch_geometric') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
