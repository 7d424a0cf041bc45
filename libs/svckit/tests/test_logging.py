"""JSON log lines: the fields SPEC §11 asks for, extras, exceptions and context ids."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider

from svckit.context import request_scope
from svckit.logging import JsonFormatter, configure_logging


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """configure_logging into a buffer, restoring the root logger (and pytest's capture) afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("svc-test", "DEBUG", stream=stream)
    try:
        yield stream
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_is_one_json_object_with_the_required_fields(log_stream: io.StringIO) -> None:
    logging.getLogger("svckit.test").info("hello %s", "world", extra={"count": 3})

    (line,) = lines(log_stream)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"])
    assert line["level"] == "INFO"
    assert line["service"] == "svc-test"
    assert line["logger"] == "svckit.test"
    assert line["message"] == "hello world"
    assert (line["trace_id"], line["span_id"], line["request_id"]) == ("", "", "")
    assert line["count"] == 3
    assert "exception" not in line


def test_trace_span_and_request_ids_come_from_the_context(log_stream: io.StringIO) -> None:
    tracer = TracerProvider().get_tracer("test")

    with request_scope("req-7"), tracer.start_as_current_span("work") as span:
        logging.getLogger("svckit.test").warning("inside")

    (line,) = lines(log_stream)
    context = span.get_span_context()
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")
    assert line["request_id"] == "req-7"


def test_an_exception_is_logged_with_its_traceback(log_stream: io.StringIO) -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("svckit.test").exception("it failed")

    (line,) = lines(log_stream)
    assert line["level"] == "ERROR"
    assert "Traceback" in line["exception"]
    assert "ValueError: broken" in line["exception"]


def test_an_extra_cannot_overwrite_a_standard_field(log_stream: io.StringIO) -> None:
    logging.getLogger("svckit.test").info("x", extra={"service": "forged", "level": "forged"})

    (line,) = lines(log_stream)
    assert line["service"] == "svc-test"
    assert (line["extra_service"], line["extra_level"]) == ("forged", "forged")


def test_ids_are_stamped_when_the_record_is_made_not_when_formatted(log_stream: io.StringIO) -> None:
    captured: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = captured.append  # type: ignore[method-assign]
    logger = logging.getLogger("svckit.test.deferred")
    logger.addHandler(handler)
    try:
        with request_scope("req-deferred"):
            logger.info("later")
    finally:
        logger.removeHandler(handler)

    formatted = json.loads(JsonFormatter("svc-test").format(captured[0]))
    assert formatted["request_id"] == "req-deferred"


def test_the_level_is_applied(log_stream: io.StringIO) -> None:
    configure_logging("svc-test", "warning", stream=log_stream)

    logging.getLogger("svckit.test").info("dropped")
    logging.getLogger("svckit.test").error("kept")

    assert [line["message"] for line in lines(log_stream)] == ["kept"]
