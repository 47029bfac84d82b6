"""Read the training data out of Neo4j (keyset-paged Cypher from ``cypher/train/``) into a Dataset: every
interaction as its value under the catalogue's signal model, and every item-attribute fact the catalogue
schema declares."""
from __future__ import annotations

from collections.abc import Callable

from kgrec.catalogue import signals
from kgrec.catalogue.schema import Catalogue
from kgrec.graph.connection import Graph
from kgrec.graph.paging import PAGE, pages
from kgrec.ranking.dataset import Dataset


def load_dataset(graph: Graph, progress: Callable[[str, int], None] | None = None,
                 catalogue: Catalogue | None = None, page: int = PAGE) -> Dataset:
    """Every interaction, the whole catalogue and every item-attribute fact, mapped to contiguous ids, read in
    pages of ``page`` users or items. ``catalogue``: the graph's own when not given. An event kind the schema
    no longer has is left out."""
    from kgrec.catalogue.store import active

    catalogue = catalogue or active(graph)
    scale = catalogue.signals
    ratings = []
    for rec in pages(graph, "train/ratings", page, interaction=scale.relationship):
        for user, item, rating, event, weight, ts in rec["rows"]:
            value = signals.value(scale, rating, event, weight)
            if value is not None:
                ratings.append((user, item, value, ts))
    catalogue_ids: list[int] = []
    facts: list[tuple[int, str, str]] = []
    for rec in pages(graph, "train/items", page, attribute_types=catalogue.attribute_types,
                     attribute_labels=catalogue.attribute_labels, id_labels=catalogue.id_labels):
        catalogue_ids.extend(rec["items"])
        facts.extend(tuple(f) for f in rec["facts"])
    social = [tuple(e) for rec in pages(graph, "train/social", page) for e in rec["rows"]]
    if progress:
        for name, n in (("interactions", len(ratings)), ("items", len(catalogue_ids)), ("facts", len(facts))):
            progress(name, n)
    return Dataset.build(ratings, catalogue_ids, facts, social)


def load_tag_sources(graph: Graph, catalogue: Catalogue | None = None):
    """Users' tag applications, HAS_TAG counts and the MENTIONS facts tags may explain (ranking/leakage.py)."""
    from kgrec.catalogue.store import active
    from kgrec.ranking.leakage import TagSources

    catalogue = catalogue or active(graph)
    return TagSources.from_rows(graph.stream("train/tagged"), graph.stream("train/tag_counts"),
                                graph.stream("train/tag_mentions", attribute_labels=catalogue.attribute_labels,
                                             id_labels=catalogue.id_labels))
