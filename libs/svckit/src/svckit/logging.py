"""Structured logs: one JSON object per line on stderr, with service, trace, span and request ids.

Log identifiers and outcomes, never request payloads or personal data.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from opentelemetry import trace

from svckit.context import current_request_id

CONTEXT_FIELDS = ("trace_id", "span_id", "request_id")

# Attributes every LogRecord has; anything else on a record came from `extra={...}`.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName", *CONTEXT_FIELDS}
)


def _context_ids() -> tuple[str, str, str]:
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        return (
            format(span_context.trace_id, "032x"),
            format(span_context.span_id, "016x"),
            current_request_id(),
        )
    return "", "", current_request_id()


def _stamp_context(factory: Any) -> Any:
    # Stamp the ids when the record is created, in the caller's context: a handler may format it later
    # and elsewhere (a queue, pytest's capture), where the contextvars no longer hold.
    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = factory(*args, **kwargs)
        record.trace_id, record.span_id, record.request_id = _context_ids()
        return record

    make_record.svckit_stamps_context = True  # type: ignore[attr-defined]
    return make_record


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object with the fields SPEC §11 asks for, then its extras."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "trace_id", None) is None:
            trace_id, span_id, request_id = _context_ids()
        else:
            trace_id, span_id, request_id = (getattr(record, name, "") for name in CONTEXT_FIELDS)
        payload: dict[str, Any] = {
            "time": _rfc3339(record.created),
            "level": record.levelname,
            "service": self._service,
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": trace_id,
            "span_id": span_id,
            "request_id": request_id,
        }
        for key, value in record.__dict__.items():
            if key in _RECORD_ATTRIBUTES or key.startswith("_"):
                continue
            payload[f"extra_{key}" if key in payload else key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            payload["exception"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


def _rfc3339(created: float) -> str:
    stamp = datetime.fromtimestamp(created, tz=UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def configure_logging(service: str, level: str = "INFO", *, stream: TextIO | None = None) -> None:
    """Route every logger through one JSON handler on stderr (or `stream`) at `level`."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "svckit_stamps_context", False):
        logging.setLogRecordFactory(_stamp_context(factory))
    logging.captureWarnings(True)
