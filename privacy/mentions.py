"""MENTIONS that only an erased user's tags gave an item, recomputed for the affected items alone (a full
re-extraction of the catalogue would take minutes): the entities the removed tag texts yield are looked
for again in what the item's text still is; those no longer found lose their MENTIONS, the others get the
count the remaining text gives."""
from __future__ import annotations

from dataclasses import replace

from kgrec.config import Settings
from kgrec.catalogue.store import active
from kgrec.graph.connection import Graph
from kgrec.ingest.entities import Gazetteer, extract
from kgrec.ingest.names import fold, tag_name
from kgrec.ingest.run import graph_gazetteer


def recompute_mentions(graph: Graph, settings: Settings, removed: dict[int, list[str]]) -> int:
    """``removed``: item -> tag texts (as written) no longer applied to it. Returns MENTIONS deleted."""
    removed = {item: texts for item, texts in removed.items() if texts}
    if not removed:
        return 0
    catalogue = active(graph)
    remaining = {}
    for row in graph.read("privacy/item_texts", items=sorted(removed),
                          fields=[*catalogue.text_fields, "text"], min_tag_users=settings.entity_min_tag_users):
        written = {tag_name(t): t for t in row["written"]}
        remaining[row["item"]] = list(row["texts"]) + [written.get(t, t) for t in row["tags"]]
    gazetteer = _within(graph_gazetteer(graph, catalogue), [*removed.values(), *remaining.values()])
    gone = extract(removed, gazetteer, settings.spacy_model, progress=False)
    if not gone.mentions:
        return 0
    kept = extract({i: t for i, t in remaining.items() if t}, gazetteer, settings.spacy_model, progress=False)
    stale = [{"item": i, "entity": e} for (i, e) in gone.mentions if (i, e) not in kept.mentions]
    recount = [{"item": i, "entity": e, "count": kept.mentions[(i, e)]} for (i, e) in gone.mentions
               if (i, e) in kept.mentions]
    deleted = sum(graph.write_batches("ingest/delete_mentions", stale, settings.batch_size))
    list(graph.write_batches("ingest/mentions", recount, settings.batch_size))
    if deleted:
        graph.write("ingest/delete_orphan_entities", labels=catalogue.linkable_labels)
    return deleted


def _within(gazetteer: Gazetteer, texts: list[list[str]]) -> Gazetteer:
    """Only the names that occur in ``texts`` (folded): a name found nowhere in them cannot match, and the
    pipeline is built in a moment instead of compiling every name of the graph."""
    haystack = fold("\n".join(t for parts in texts for t in parts))
    return replace(gazetteer, by_fold={f: v for f, v in gazetteer.by_fold.items() if f in haystack})
