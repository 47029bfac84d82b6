"""Logging for every `kgrec` command, set up once by the CLI: one JSON object per line when stderr is not a
terminal (a service manager, a container, a log file), readable text when it is.

kgrec's own loggers (``kgrec.*``, the API's request log) log from INFO; libraries only from WARNING, so
PyKEEN's or waitress's chatter stays out. Extra fields go in ``extra={"fields": {...}}``.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import IO

#: the attribute of a LogRecord holding a dict of extra, structured fields
FIELDS = "fields"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", **fields[, "exception"]}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, FIELDS, {}),
        }
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``HH:MM:SS LEVEL logger: message key=value …`` for a person at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = getattr(record, FIELDS, {})
        return text + "".join(f" {k}={v}" for k, v in fields.items())


def setup_logging(stream: IO[str] | None = None) -> None:
    """Send log records to ``stream`` (stderr) as JSON lines, or as text when it is a terminal."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter() if _isatty(stream) else JsonFormatter())
    # on the handler, not only the root logger: libraries that set their own logger's level (PyKEEN sets
    # INFO) would otherwise pass their chatter through
    handler.addFilter(_ours_or_warning)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("kgrec").setLevel(logging.INFO)
    logging.captureWarnings(True)


def _ours_or_warning(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING or record.name == "kgrec" or record.name.startswith("kgrec.")


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False
