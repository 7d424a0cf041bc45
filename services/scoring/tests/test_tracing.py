"""One trace runs from the create request through intake, the outbox relay, JetStream, scoring and
bureau-gateway, and back into intake for the decision (SPEC §11)."""

from collections.abc import AsyncIterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from scoring_harness import Stack, running_stack

from bureau_gateway.bureaus import Country
from bureau_gateway.sandbox import SANDBOX_IDENTITIES, Scenario
from globalcredit.intake.v1 import application_pb2
from svckit.local.nats import LocalNats


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture(scope="module")
def tracer_provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@pytest.fixture(scope="module")
async def traced_stack(
    module_database: str, local_nats: LocalNats, issuer, tracer_provider: TracerProvider
) -> AsyncIterator[Stack]:
    if not local_nats.running:
        local_nats.start()
    async with running_stack(
        module_database, local_nats.url, issuer, tracer_provider=tracer_provider
    ) as stack:
        await stack.start_scoring(tracer_provider=tracer_provider)
        await stack.wait_for_pullers(1)
        yield stack


def approve_identity(country: str) -> str:
    return next(
        identity.document
        for identity in SANDBOX_IDENTITIES
        if identity.country == Country(country) and identity.scenario is Scenario.APPROVE
    )


def spans_named(spans: list[ReadableSpan], fragment: str) -> list[ReadableSpan]:
    return [span for span in spans if fragment in span.name]


async def test_one_trace_runs_from_the_request_to_the_decision(
    traced_stack: Stack, exporter: InMemorySpanExporter, tracer_provider: TracerProvider
):
    exporter.clear()
    # The client's own span: the trace starts here, as it would in the console.
    with tracer_provider.get_tracer("test-client").start_as_current_span(
        "create", kind=SpanKind.CLIENT
    ) as root:
        created = await traced_stack.create("ES", document=approve_identity("ES"))
    trace_id = root.get_span_context().trace_id
    decided = await traced_stack.wait_decided([created.name])
    assert decided[created.name].status == application_pb2.APPLICATION_STATUS_APPROVED

    spans = [span for span in exporter.get_finished_spans() if span.context.trace_id == trace_id]
    by_service = {
        "intake CreateApplication": spans_named(spans, "IntakeService/CreateApplication"),
        "relay publish": spans_named(spans, "intake.application.submitted publish"),
        "scoring consumer": spans_named(spans, "scoring-jobs process"),
        "intake StartValidation": spans_named(spans, "IntakeService/StartValidation"),
        "bureau-gateway GetCreditReport": spans_named(spans, "BureauService/GetCreditReport"),
        "intake RecordDecision": spans_named(spans, "IntakeService/RecordDecision"),
    }
    assert {name: len(found) > 0 for name, found in by_service.items()} == dict.fromkeys(by_service, True), (
        sorted({span.name for span in spans})
    )
    # The NATS hop: the consumer's span is a child of the relay's publish span, in another task entirely.
    publish = by_service["relay publish"][0]
    consumer = by_service["scoring consumer"][0]
    assert publish.kind is SpanKind.PRODUCER
    assert consumer.kind is SpanKind.CONSUMER
    assert consumer.parent is not None
    assert consumer.parent.span_id == publish.context.span_id
    # The relay continued the request's trace from the outbox row.
    create = by_service["intake CreateApplication"][0]
    assert publish.parent is not None
    assert publish.parent.span_id == create.context.span_id


async def test_the_decision_event_continues_the_trace_of_the_decision(
    traced_stack: Stack, exporter: InMemorySpanExporter
):
    exporter.clear()
    created = await traced_stack.create("PT", document=approve_identity("PT"))
    await traced_stack.wait_decided([created.name])
    spans = exporter.get_finished_spans()
    record = spans_named(list(spans), "IntakeService/RecordDecision")[0]
    changed = [
        span
        for span in spans_named(list(spans), "intake.application.status_changed publish")
        if span.parent is not None and span.parent.span_id == record.context.span_id
    ]
    assert len(changed) == 1, "the status change the decision caused is published in the decision's trace"
