"""A service process's telemetry, closed once the service has stopped: the metrics endpoint goes away and
the spans still buffered are exported, not lost."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from svckit.metrics import start_metrics_server
from svckit.process import ProcessTelemetry


def metrics_status(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return int(response.status)


async def test_closing_the_telemetry_flushes_buffered_spans_and_stops_serving_metrics() -> None:
    provider = TracerProvider()  # recording, as configure_tracing's is when an exporter is configured
    exporter = InMemorySpanExporter()
    # A batch processor holds spans for seconds before it exports them: only a flush sends them now.
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=60_000))
    telemetry = ProcessTelemetry(provider, start_metrics_server("127.0.0.1", 0))
    with provider.get_tracer("probe").start_as_current_span("last call before shutdown"):
        pass
    port = telemetry.metrics_server.port
    assert await asyncio.to_thread(metrics_status, port) == 200
    assert exporter.get_finished_spans() == ()

    await telemetry.close()

    assert [span.name for span in exporter.get_finished_spans()] == ["last call before shutdown"]
    with pytest.raises(urllib.error.URLError):
        await asyncio.to_thread(metrics_status, port)
