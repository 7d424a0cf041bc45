"""No identity document leaves the service anywhere but in the request itself: not in a log line, a
trace attribute, a metric or an error message."""

import json
import logging

import grpc
from bureau_gateway_harness import running_bureau_gateway, settings_for
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY, generate_latest

from bureau_gateway.sandbox import SANDBOX_IDENTITIES
from globalcredit.bureau.v1 import bureau_service_pb2
from globalcredit.type.v1 import country_pb2
from svckit.logging import JsonFormatter

OTHER_DOCUMENTS = [("ES", "Z9876543R"), ("CO", "52123456"), ("BR", "398.137.160-05")]


async def test_no_document_reaches_logs_traces_metrics_or_errors(bureau_issuer, caplog):
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings = settings_for(bureau_issuer, fault_injection_enabled=True, circuit_failure_threshold=2)
    requests = [(i.country.value, i.document) for i in SANDBOX_IDENTITIES] + OTHER_DOCUMENTS
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []

    async with running_bureau_gateway(settings, bureau_issuer, tracer_provider=tracer_provider) as running:
        scoring, partner = running.client("service"), running.client("partner")
        await running.client("admin").InjectFault(
            bureau_service_pb2.InjectFaultRequest(
                country=country_pb2.COUNTRY_PT, kind=bureau_service_pb2.FAULT_KIND_FLAKY, failure_rate="0.5"
            )
        )
        for country, document in requests:
            for client, consent in ((scoring, "consent-1"), (scoring, " "), (partner, "consent-1")):
                request = bureau_service_pb2.GetCreditReportRequest(
                    country=country_pb2.Country.Value(f"COUNTRY_{country}"),
                    identity_document=document,
                    consent_reference=consent,
                )
                try:
                    await client.GetCreditReport(request, timeout=3.0)
                except grpc.aio.AioRpcError as error:
                    errors.append(f"{error.details()} {error.trailing_metadata()}")
            try:
                await scoring.GetCreditReport(
                    bureau_service_pb2.GetCreditReportRequest(identity_document=document * 3)
                )
            except grpc.aio.AioRpcError as error:
                errors.append(f"{error.details()} {error.trailing_metadata()}")

    formatter = JsonFormatter("bureau-gateway")
    logs = "\n".join(formatter.format(record) for record in caplog.records)
    spans = "\n".join(
        json.dumps(
            {
                "name": span.name,
                "attributes": dict(span.attributes or {}),
                "events": [(event.name, dict(event.attributes or {})) for event in span.events],
                "status": span.status.description,
            },
            default=str,
        )
        for span in exporter.get_finished_spans()
    )
    metrics = generate_latest(REGISTRY).decode()
    assert "bureau fallback" in logs  # the failing identities were logged about...
    assert "bureau fetch" in spans  # ...and traced
    assert len(errors) >= 2 * len(requests)
    for _, document in requests:
        normalised = document.replace(".", "").replace("-", "")
        for text, where in (
            (logs, "logs"),
            (spans, "spans"),
            (metrics, "metrics"),
            ("\n".join(errors), "errors"),
        ):
            assert normalised not in text, f"a document appears in the {where}"
            assert document not in text, f"a document appears in the {where}"
