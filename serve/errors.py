"""What serving answers with besides a document: the API maps each to its HTTP status."""
from __future__ import annotations

#: the largest k a caller may ask for (documented in the README and the OpenAPI document)
MAX_K = 100
MAX_PATHS = 10


class NotFound(LookupError):
    """An unknown user or item (HTTP 404)."""


class BadFilter(ValueError):
    """A filter the catalogue cannot apply (HTTP 400)."""


class NoModel(RuntimeError):
    """No model version is active yet: run `kgrec train` (HTTP 503)."""
