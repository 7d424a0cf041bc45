"""The shim's composition root: builds the intake channel and the HTTP server, runs them, and takes them
down in order on SIGTERM/SIGINT: /healthz 503 → drain → stop accepting → in-flight deliveries finish
within the grace period → close the channel to intake."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass

import grpc.aio
from aiohttp import web
from opentelemetry import trace

from svckit.client import token_provider
from svckit.process import start_process_telemetry
from webhook_shim.intake_client import IntakeClient, intake_channel
from webhook_shim.routes import HEALTH_PATH, WEBHOOK_PATH, Health, build_application
from webhook_shim.settings import WebhookShimSettings
from webhook_shim.signatures import SignatureVerifier

SERVICE_NAME = "webhook-shim"

log = logging.getLogger(__name__)


@dataclass
class WebhookShim:
    """A running shim: its HTTP listener, health state and channel to intake."""

    runner: web.AppRunner
    channel: grpc.aio.Channel
    health: Health
    host: str
    port: int
    _stopped: bool = False

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def webhook_url(self) -> str:
        return self.base_url + WEBHOOK_PATH

    @property
    def health_url(self) -> str:
        return self.base_url + HEALTH_PATH

    def start_draining(self) -> None:
        """/healthz answers 503 from now on; deliveries are still taken."""
        self.health.serving = False

    async def stop(self) -> None:
        """Stop accepting connections, let in-flight deliveries finish (within the runner's shutdown
        timeout, the grace period), then close the channel they used. Stopping twice is harmless."""
        self.start_draining()
        if self._stopped:
            return
        self._stopped = True
        await self.runner.cleanup()
        await self.channel.close()

    async def shutdown(self, *, drain: float) -> None:
        """The orderly end: health 503, keep serving for `drain` seconds while load balancers notice,
        then `stop()`."""
        self.start_draining()
        if drain > 0:
            log.info("draining", extra={"drain_seconds": drain})
            await asyncio.sleep(drain)
        await self.stop()


async def start(
    settings: WebhookShimSettings, *, tracer_provider: trace.TracerProvider | None = None
) -> WebhookShim:
    """Build the shim and start listening (port 0 picks a free port; see `.port`)."""
    verifier = SignatureVerifier(
        settings.webhook_secrets(), tolerance_seconds=settings.timestamp_tolerance_seconds
    )
    channel = intake_channel(
        settings.intake_address,
        token_provider=token_provider(settings),
        timeout=settings.intake_timeout_seconds,
    )
    health = Health()
    app = build_application(
        verifier,
        IntakeClient(channel, timeout=settings.intake_timeout_seconds),
        health,
        retry_after_seconds=settings.retry_after_seconds,
        tracer_provider=tracer_provider,
    )
    # No access log: each delivery gets one structured line of its own, and health probes none.
    runner = web.AppRunner(
        app, access_log=None, handle_signals=False, shutdown_timeout=settings.shutdown_grace_seconds
    )
    await runner.setup()
    host, port = settings.http_address
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        await channel.close()
        raise
    bound_port = int(runner.addresses[0][1])
    return WebhookShim(runner=runner, channel=channel, health=health, host=host, port=bound_port)


async def serve(settings: WebhookShimSettings) -> None:
    """Run the shim until SIGTERM or SIGINT, then shut down in order."""
    telemetry = start_process_telemetry(SERVICE_NAME, settings)
    try:
        shim = await start(settings, tracer_provider=telemetry.tracer_provider)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info(
            "serving",
            extra={
                "http_port": shim.port,
                "metrics_port": telemetry.metrics_server.port,
                "intake_address": settings.intake_address,
            },
        )
        await stop.wait()
        log.info(
            "shutting down",
            extra={
                "drain_seconds": settings.shutdown_drain_seconds,
                "grace_seconds": settings.shutdown_grace_seconds,
            },
        )
        await shim.shutdown(drain=settings.shutdown_drain_seconds)
    finally:
        await telemetry.close()
    log.info("stopped")
