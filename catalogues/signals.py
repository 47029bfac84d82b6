"""One signal model: what an interaction (a rating, or an event with an optional count) is worth.

Every interaction of a catalogue is one ``(:User)-[<signals.relationship>]->(:Item)`` relationship per user
and item with ``rating`` (explicit), or ``event`` and ``weight`` (an implicit or negative kind and its count),
and ``ts``. Its **value** is on the catalogue's scale: the rating itself; ``strength`` for an event, times
``1 + ln(count)`` for a counted one (1 play = 1.0, 212 plays = 6.4); ``-strength`` for a negative kind.
A value at or above ``signals.positive`` is a positive (a like); below 0 a negative, never a positive.
Training, evaluation, serving fold-in, CO_LIKED, popularity and explanation text all call this module.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kgrec.catalogue.schema import Event, Signals


class SignalError(ValueError):
    """An interaction the catalogue cannot take: unknown event, rating off the scale, both or neither."""


@dataclass(frozen=True)
class Signal:
    """One stored interaction: what the relationship holds."""

    rating: float | None = None
    event: str | None = None
    weight: float | None = None
    ts: int | None = None

    def as_row(self) -> dict[str, Any]:
        return {"rating": self.rating, "event": self.event, "weight": self.weight, "ts": self.ts}


def default_event(signals: Signals) -> Event | None:
    """The kind a weight-only row stands for: the first counted positive kind, else the first positive one."""
    positives = [e for e in signals.events.values() if not e.negative]
    counted = [e for e in positives if e.counted]
    return (counted or positives or [None])[0]


def check(signals: Signals, rating: float | None, event: str | None, weight: float | None) -> Signal:
    """A valid signal from what a feed or the API gave, else :class:`SignalError` saying why."""
    if rating is not None and event is not None:
        raise SignalError("give either a rating or an event, not both")
    if rating is not None:
        scale = signals.rating
        if scale is None:
            raise SignalError(f"this catalogue takes no ratings; events: {', '.join(signals.events)}")
        if not (isinstance(rating, (int, float)) and math.isfinite(rating) and scale.min <= rating <= scale.max):
            raise SignalError(f"rating must be a number from {scale.min:g} to {scale.max:g}, got {rating!r}")
        if weight is not None:
            raise SignalError("a rating takes no weight/count")
        return Signal(rating=float(rating))
    if weight is not None and not (math.isfinite(weight) and weight > 0):
        raise SignalError(f"weight/count must be a positive number, got {weight!r}")
    if event is None:
        if weight is None:
            raise SignalError("give a rating or an event (or a weight/count)")
        return Signal(weight=float(weight))
    if event not in signals.events:
        raise SignalError(f"unknown event {event!r}; this catalogue's events: {', '.join(signals.events) or 'none'}")
    return Signal(event=event, weight=None if weight is None else float(weight))


def value(signals: Signals, rating: float | None, event: str | None, weight: float | None) -> float | None:
    """The interaction's value on the catalogue's scale; None for an event kind the schema no longer has."""
    if rating is not None:
        return float(rating)
    if event is None:
        kind = default_event(signals)
        if kind is None:  # a rating catalogue without positive events: a bare interaction is a like
            return signals.positive
    else:
        kind = signals.events.get(event)
        if kind is None:
            return None
    if kind.negative:
        return -kind.strength
    if kind.counted:
        return kind.strength * (1.0 + math.log(max(float(weight or 1.0), 1.0)))
    return kind.strength


def is_positive(signals: Signals, v: float | None) -> bool:
    return v is not None and v >= signals.positive


def combine(signals: Signals, old: Signal | None, new: Signal) -> Signal:
    """One relationship per user and item: what it holds after ``new`` arrives.

    A rating replaces anything; a negative kind replaces anything (the newest word wins); the same counted
    kind again adds its count; otherwise the stronger of the two stays (a view after a purchase does not
    undo the purchase), a positive after a negative replaces it. ``ts`` is the newest of the two."""
    if old is None:
        return new
    ts = max(old.ts or 0, new.ts or 0) or None
    if new.rating is not None or new.event is not None and signals.events.get(new.event, Event("", 1)).negative:
        return Signal(new.rating, new.event, new.weight, ts)
    if old.rating is None and old.event == new.event:
        kind = signals.events.get(new.event) if new.event else default_event(signals)
        if kind is None or kind.counted:
            weight = (old.weight or 1.0) + (new.weight or 1.0)
            return Signal(None, new.event, weight, ts)
        return Signal(None, new.event, new.weight or old.weight, ts)
    v_old = value(signals, old.rating, old.event, old.weight)
    v_new = value(signals, new.rating, new.event, new.weight)
    if v_old is None or v_old < 0 or (v_new is not None and v_new >= v_old):
        return Signal(new.rating, new.event, new.weight, ts)
    return Signal(old.rating, old.event, old.weight, ts)


def phrase(signals: Signals, props: Mapping[str, Any], liked: str) -> str:
    """The first half of an explanation: "You rated X 5★", "You played X 212 times", "You bought X"."""
    rating, event, weight = props.get("rating"), props.get("event"), props.get("weight")
    if rating is not None and signals.rating is not None:
        return signals.rating.phrase.format(liked=liked, stars=stars(rating), rating=f"{float(rating):g}")
    kind = signals.events.get(event) if event else default_event(signals)
    if kind is None:
        return f"You chose {liked}"
    count = int(round(float(weight or 1)))
    return kind.phrase.format(liked=liked, count=count, times=times(count))


def stars(rating: float | None) -> str:
    return "" if rating is None else f"{float(rating):g}\u2605"


def times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count:,} times")


def positive_counts(signals: Signals) -> dict[str, float]:
    """Per positive event kind, the least weight/count that makes a positive (Cypher filters with it, as
    ``cypher/serve/popular.cypher`` does); a kind never positive is left out. Key "" is a weight-only row."""
    out: dict[str, float] = {}
    for kind in signals.events.values():
        if kind.negative:
            continue
        if kind.counted:  # strength x (1 + ln c) >= positive
            out[kind.name] = max(1.0, math.exp(signals.positive / kind.strength - 1.0))
        elif kind.strength >= signals.positive:
            out[kind.name] = 0.0
    default = default_event(signals)
    if default is None:
        out[""] = 0.0
    elif default.name in out:
        out[""] = out[default.name]
    return out
