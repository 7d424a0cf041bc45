"""OpenTelemetry tracing: provider set-up, W3C trace context in gRPC metadata and NATS headers, RPC spans.

Server spans are started by the svckit server interceptor; client spans by the OpenTelemetry gRPC
instrumentation (`grpc_client_interceptors`).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import cast

import grpc
import grpc.aio
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.grpc import aio_client_interceptors
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import Span, Status, StatusCode, Tracer

INSTRUMENTATION_NAME = "svckit"

# OpenTelemetry's gRPC conventions: on a server span only these codes are the server's fault.
_SERVER_FAULT_CODES = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def configure_tracing(service: str, otlp_endpoint: str | None, *, set_global: bool = True) -> TracerProvider:
    """An SDK tracer provider for `service`, exporting over OTLP/gRPC only when an endpoint is given.

    Without an endpoint nothing is recorded (recording spans nobody exports cost a service up to a fifth
    of its CPU in `make bench`), but trace context still propagates and logs still carry trace ids: an
    unsampled span keeps its parent's trace id. Call `provider.shutdown()` at exit to flush.
    """
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}),
        sampler=None if otlp_endpoint else ALWAYS_OFF,
    )
    if otlp_endpoint:
        # An http:// endpoint means plaintext, https:// means TLS (the exporter reads the scheme).
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    if set_global:
        trace.set_tracer_provider(provider)
    return provider


def tracer(provider: trace.TracerProvider | None = None) -> Tracer:
    """svckit's tracer; without a provider it follows the global one, even one configured later."""
    return trace.get_tracer(INSTRUMENTATION_NAME, tracer_provider=provider)


def inject_headers(headers: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Add the current trace context (`traceparent`, `tracestate`) to message headers; returns them."""
    propagate.inject(headers)
    return headers


def instrument_asyncpg(provider: trace.TracerProvider | None = None) -> None:
    """A span for every asyncpg query: the statement with its placeholders, never the arguments (they
    hold personal data). Process-wide, so the first call's provider is the one used."""
    # The instrumentor is a process-wide singleton and takes `capture_parameters` in its constructor
    # (instrument() ignores it): say False explicitly, whatever a later version's default may be.
    instrumentor = AsyncPGInstrumentor(capture_parameters=False)  # type: ignore[no-untyped-call]
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(tracer_provider=provider)


def current_traceparent() -> str | None:
    """The W3C `traceparent` of the current span, to store beside work that continues later (an outbox
    row) so that the trace continues with it; None outside a trace."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def extract_context(headers: Mapping[str, str] | None) -> Context:
    """The trace context carried by message headers (an empty context when there is none)."""
    return propagate.extract(headers or {})


def record_grpc_code(span: Span, code: grpc.StatusCode) -> None:
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    if code in _SERVER_FAULT_CODES:
        span.set_status(Status(StatusCode.ERROR, code.name))


def grpc_client_interceptors(
    provider: trace.TracerProvider | None = None,
) -> list[grpc.aio.ClientInterceptor]:
    """OpenTelemetry's asyncio client interceptors: a CLIENT span per call, trace context in metadata."""
    return cast(list[grpc.aio.ClientInterceptor], aio_client_interceptors(tracer_provider=provider))  # type: ignore[no-untyped-call]
