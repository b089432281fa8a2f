"""Logging set-up: plain lines for a console, or one JSON object per line for a log collector."""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Attributes every LogRecord has; anything else was passed with `extra=` and goes into the JSON object.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, process, and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class _GatehouseHandler(logging.StreamHandler):
    """Marks the handler this module installed, so configuring again replaces it instead of adding another."""


def configure(*, log_format: str = "plain", level: str = "INFO") -> None:
    """Send every log record (uvicorn's too) to stderr in the chosen format; leave a host's own logging alone."""
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if isinstance(handler, _GatehouseHandler)]
    if len(ours) != len(root.handlers):  # pytest, or an embedding program, configured logging already
        return
    for handler in ours:
        root.removeHandler(handler)
    handler = _GatehouseHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(PLAIN_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("gatehouse").debug("logging as %s at %s", log_format, level)
