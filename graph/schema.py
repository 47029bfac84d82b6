"""Constraints and indexes from ``cypher/schema.cypher``, applied idempotently (IF NOT EXISTS)."""
from __future__ import annotations

from kgrec.graph import cypher
from kgrec.graph.connection import Graph


def apply_schema(graph: Graph) -> int:
    """Apply every statement of schema.cypher, then the constraints of the graph's catalogue (its item and
    attribute labels); returns how many of schema.cypher's statements were run."""
    from kgrec.catalogue.store import active, apply_constraints

    statements = cypher.statements("schema")
    graph.run_statements(statements)
    apply_constraints(graph, active(graph))
    return len(statements)


def describe_schema(graph: Graph) -> dict[str, list[str]]:
    """Names of the constraints and indexes now in the database."""
    return {
        "constraints": sorted(r["name"] for r in graph.read("schema_constraints")),
        "indexes": sorted(r["name"] for r in graph.read("schema_indexes")),
    }
