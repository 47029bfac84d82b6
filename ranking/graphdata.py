"""Read the training data out of Neo4j (streamed Cypher from ``cypher/train/``) into a Dataset."""
from __future__ import annotations

from collections.abc import Callable

from kgrec.graph.connection import Graph
from kgrec.ranking.dataset import Dataset

#: node labels that count as item attributes, most specific first (an :Entity linked to an existing
#: Person keeps the Person key, so both paths reach the same attribute)
ATTRIBUTE_LABELS = ["Person", "Genre", "Country", "Keyword", "Studio", "Tag", "Attribute", "Entity"]
#: labels whose nodes are keyed by ``id`` (the others by ``name``), as in cypher/schema.cypher
ID_LABELS = ["Person", "Attribute", "Entity"]


def load_dataset(graph: Graph, progress: Callable[[str, int], None] | None = None) -> Dataset:
    """Every rating, the whole catalogue and every item-attribute fact, mapped to contiguous ids."""
    def counted(name: str, rows):
        n = 0
        for row in rows:
            n += 1
            yield row
        if progress:
            progress(name, n)

    ratings = [(r["user"], r["item"], r["rating"], r["ts"])
               for r in counted("ratings", graph.stream("train/ratings"))]
    catalogue = [r["item"] for r in counted("items", graph.stream("train/items"))]
    facts = [(r["item"], r["rel"], r["attr"]) for r in counted(
        "facts", graph.stream("train/facts", attribute_labels=ATTRIBUTE_LABELS, id_labels=ID_LABELS))]
    return Dataset.build(ratings, catalogue, facts)
