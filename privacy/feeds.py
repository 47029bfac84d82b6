"""Erased users' rows kept out of every ingest: the plan filter (called where every adapter's plan is
written, ``ingest.run.ingest_plan``) and the rejects files (a rejected row keeps its raw text)."""
from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from kgrec.ingest.names import tag_name
from kgrec.ingest.plan import Plan
from kgrec.privacy.tombstones import Tombstones

#: the reason counted in the ingest report's ``skipped`` (a count, never an id)
SKIP_REASON = "erased user"
#: a rejects row names a user when it comes from one of these files (by name, without folder or extension)
USER_FILES = ("ratings", "tags", "interactions", "social", "follows", "friends")


def user_fields(step: str) -> tuple[str, ...]:
    """The fields of a plan step's rows that hold a user id (social edges have two)."""
    return ("id",) if step == "user" else ("user", "other")


def drop_erased(plan: Plan, tombstones: Tombstones) -> int:
    """Remove erased users' rows from ``plan`` (with what they added to tag counts and to the texts entity
    extraction reads); returns how many interaction, tag and social rows went (User nodes not counted)."""
    if not tombstones.hashes:
        return 0
    dropped = 0
    untagged: Counter[tuple[int, str]] = Counter()
    for step, rows in plan.rows.items():
        fields = user_fields(step)
        for key, row in list(rows.items()):
            if any(tombstones.erased(row.get(f)) for f in fields):
                del rows[key]
                dropped += step != "user"
                if step == "tagged":
                    untagged[(row["item"], tag_name(row["tag"]))] += 1
    for (item, name), n in untagged.items():
        agg = plan.get("has_tag", item, name)
        if agg is None:
            continue
        agg["count"] -= n
        if item in plan.tag_texts:  # fewer people behind its text (entity extraction); none left: it goes
            plan.tag_texts[item] = [(t, u - n if tag_name(t) == name else u) for t, u in plan.tag_texts[item]
                                    if tag_name(t) != name or u > n]
        if agg["count"] <= 0:  # only erased users applied it: the tag and its text go
            del plan.rows["has_tag"][(item, name)]
            if item in plan.texts:  # an empty list still marks the item's MENTIONS for re-extraction
                plan.texts[item] = [t for t in plan.texts[item] if tag_name(t) != name]
    if dropped:
        plan.skipped[SKIP_REASON] += dropped
    return dropped


def rejected_rows(path: Path, erased: Callable[[int], bool]) -> tuple[list[list[str]], int]:
    """(rows to keep, including the header; how many rows name an erased user) of a rejects CSV file."""
    keep: list[list[str]] = []
    matched = 0
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        for n, row in enumerate(csv.reader(fh)):
            if n and len(row) >= 4 and _names_user(row[0], row[3], erased):
                matched += 1
            else:
                keep.append(row)
    return keep, matched


def scrub_rejects(path: Path, erased: Callable[[int], bool]) -> int:
    """Rewrite a rejects file without the rows of erased users; returns how many went."""
    keep, matched = rejected_rows(path, erased)
    if matched:
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(keep)
        tmp.replace(path)
    return matched


def _names_user(file: str, raw: str, erased: Callable[[int], bool]) -> bool:
    """Whether a rejected raw row from ``file`` holds an erased user's id in any integer field (its columns
    are not known here; an item id equal to an erased user id also matches, which errs on the safe side)."""
    if not Path(file).stem.lower().startswith(USER_FILES):
        return False
    fields = next(csv.reader([raw], delimiter="\t" if "\t" in raw else ","), [])
    return any(f.strip().isdigit() and erased(int(f.strip())) for f in fields)
