"""What every service process sets up before it builds its app, the same way in each: JSON logs, tracing,
the Prometheus endpoint, and (for gRPC services) the runner that tears them down last."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from opentelemetry.sdk.trace import TracerProvider

from svckit.logging import configure_logging
from svckit.metrics import MetricsServer, start_metrics_server
from svckit.server import ServiceRunner
from svckit.settings import ServiceSettings
from svckit.telemetry import configure_tracing


class TelemetrySettings(Protocol):
    """The settings telemetry needs: `ServiceSettings` has them, and so does a service that is not gRPC."""

    @property
    def log_level(self) -> str: ...
    @property
    def otel_exporter_otlp_endpoint(self) -> str | None: ...
    @property
    def metrics_address(self) -> tuple[str, int]: ...


@dataclass(frozen=True)
class ProcessTelemetry:
    """The process's tracer provider and metrics endpoint, to be closed once the service has stopped."""

    tracer_provider: TracerProvider
    metrics_server: MetricsServer

    async def close(self) -> None:
        """Stop serving metrics and flush the spans still buffered (the exporter blocks, so in a thread)."""
        self.metrics_server.close()
        await asyncio.to_thread(self.tracer_provider.shutdown)


def start_process_telemetry(service: str, settings: TelemetrySettings) -> ProcessTelemetry:
    """Configure logging and tracing for `service` and start its metrics endpoint."""
    configure_logging(service, settings.log_level)
    tracer_provider = configure_tracing(service, settings.otel_exporter_otlp_endpoint)
    return ProcessTelemetry(tracer_provider, start_metrics_server(*settings.metrics_address))


def start_service_process(service: str, settings: ServiceSettings) -> tuple[ServiceRunner, ProcessTelemetry]:
    """Telemetry as `start_process_telemetry`, and a runner with the settings' grace and drain whose
    first-registered (so last-run) shutdown hook closes that telemetry: whatever the service registers
    after is still traced and counted while it stops."""
    telemetry = start_process_telemetry(service, settings)
    runner = ServiceRunner(grace=settings.shutdown_grace_seconds, drain=settings.shutdown_drain_seconds)
    runner.on_shutdown(telemetry.close, name="metrics and tracing")
    return runner, telemetry
