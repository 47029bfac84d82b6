"""Catalogues as data: the schema files (``schemas/*.toml``), their loader and the signal model."""
from kgrec.catalogue.schema import Attribute, Catalogue, Event, Rating, SchemaError, Signals, load, parse

__all__ = ["Attribute", "Catalogue", "Event", "Rating", "SchemaError", "Signals", "load", "parse"]
