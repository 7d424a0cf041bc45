"""Tracer set-up, trace context carried in message headers, and SQL spans without their arguments."""

from __future__ import annotations

import asyncpg
from opentelemetry import trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from svckit.db import libpq_url
from svckit.telemetry import configure_tracing, extract_context, inject_headers, instrument_asyncpg


def processors(provider: TracerProvider) -> tuple[object, ...]:
    return tuple(provider._active_span_processor._span_processors)


def test_without_an_endpoint_nothing_is_exported() -> None:
    provider = configure_tracing("svc", None, set_global=False)

    assert processors(provider) == ()
    assert provider.resource.attributes["service.name"] == "svc"


def test_with_an_endpoint_spans_are_batched_to_otlp() -> None:
    provider = configure_tracing("svc", "http://127.0.0.1:4317", set_global=False)
    try:
        (processor,) = processors(provider)
        assert isinstance(processor, BatchSpanProcessor)
    finally:
        provider.shutdown()


def test_trace_context_round_trips_through_message_headers(tracer_provider: TracerProvider) -> None:
    with tracer_provider.get_tracer("test").start_as_current_span("publish") as publisher:
        headers = inject_headers({"Nats-Msg-Id": "m-1"})

    assert headers["Nats-Msg-Id"] == "m-1"
    assert "traceparent" in headers
    carried = trace.get_current_span(extract_context(headers)).get_span_context()
    assert carried.trace_id == publisher.get_span_context().trace_id
    assert carried.span_id == publisher.get_span_context().span_id


def test_no_headers_extract_to_no_span() -> None:
    assert not trace.get_current_span(extract_context(None)).get_span_context().is_valid


async def test_sql_spans_carry_the_statement_but_never_its_arguments(postgres_url: str) -> None:
    instrumentor = AsyncPGInstrumentor()
    instrumentor.uninstrument()  # another test's service may have instrumented it for its own provider
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrument_asyncpg(provider)
    statement = "SELECT length($1::text)"
    secret = "Qzuvwxyzab Qmarkerzzz 12345678Z"
    try:
        connection = await asyncpg.connect(libpq_url(postgres_url))
        try:
            assert await connection.fetchval(statement, secret) == len(secret)
        finally:
            await connection.close()
    finally:
        instrumentor.uninstrument()

    spans = exporter.get_finished_spans()
    texts = [str(value) for span in spans for value in (span.name, *(span.attributes or {}).values())] + [
        str(value) for span in spans for event in span.events for value in (event.attributes or {}).values()
    ]
    assert statement in texts
    assert not [text for text in texts if "Qmarkerzzz" in text or "12345678Z" in text]
