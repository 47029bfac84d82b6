"""Read the training data out of Neo4j (streamed Cypher from ``cypher/train/``) into a Dataset: every
interaction as its value under the catalogue's signal model, and every item-attribute fact the catalogue
schema declares."""
from __future__ import annotations

from collections.abc import Callable

from kgrec.catalogue import signals
from kgrec.catalogue.schema import Catalogue
from kgrec.graph.connection import Graph
from kgrec.ranking.dataset import Dataset


def load_dataset(graph: Graph, progress: Callable[[str, int], None] | None = None,
                 catalogue: Catalogue | None = None) -> Dataset:
    """Every interaction, the whole catalogue and every item-attribute fact, mapped to contiguous ids.
    ``catalogue``: the graph's own when not given. An event kind the schema no longer has is left out."""
    from kgrec.catalogue.store import active

    catalogue = catalogue or active(graph)
    scale = catalogue.signals

    def counted(name: str, rows):
        n = 0
        for row in rows:
            n += 1
            yield row
        if progress:
            progress(name, n)

    ratings = []
    for r in counted("interactions", graph.stream("train/ratings", interaction=scale.relationship)):
        value = signals.value(scale, r["rating"], r["event"], r["weight"])
        if value is not None:
            ratings.append((r["user"], r["item"], value, r["ts"]))
    catalogue_ids = [r["item"] for r in counted("items", graph.stream("train/items"))]
    facts = [(r["item"], r["rel"], r["attr"]) for r in counted(
        "facts", graph.stream("train/facts", attribute_types=catalogue.attribute_types,
                              attribute_labels=catalogue.attribute_labels, id_labels=catalogue.id_labels))]
    social = graph.read("train/social")
    return Dataset.build(ratings, catalogue_ids, facts, [tuple(e) for e in social[0]["rows"]] if social else [])
