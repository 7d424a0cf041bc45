"""Intake's composition root: builds the database pool, the use cases, the gRPC server and the outbox relay,
runs them, and takes them down in order."""

import asyncio
import contextlib
from dataclasses import dataclass

import asyncpg
from opentelemetry.sdk.trace import TracerProvider

from intake.api import ACCESS_POLICY, ERROR_DOMAIN, SERVICE_NAME, IntakeApi, register
from intake.events import EventPublisher, JetStreamLink
from intake.outbox import OutboxRelay
from intake.outbox_store import Outbox
from intake.pii import PiiCipher
from intake.repository import Database, check_connection
from intake.service import IntakeService
from intake.settings import IntakeSettings
from svckit.auth import JwtVerifier
from svckit.db import create_pool
from svckit.logging import configure_logging
from svckit.process import start_service_process
from svckit.server import BuiltServer, GrpcService, build_server
from svckit.telemetry import instrument_asyncpg


@dataclass
class IntakeApp:
    """A built intake: its server (bound, not started), the relay, and what they hold open."""

    server: BuiltServer
    relay: OutboxRelay
    pool: asyncpg.Pool
    link: JetStreamLink
    _relay_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.server.start()
        self.start_relay()

    def start_relay(self) -> None:
        self._relay_task = asyncio.create_task(self.relay.run(), name="outbox-relay")

    async def stop(self, grace: float = 5.0) -> None:
        """Stop taking calls, let in-flight ones finish, relay what they wrote, then close."""
        await self.server.stop(grace)
        await self.stop_relay()
        await self.link.close()
        await self.pool.close()

    async def stop_relay(self) -> None:
        self.relay.stop()
        if self._relay_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay_task
            self._relay_task = None


async def build(settings: IntakeSettings, *, tracer_provider: TracerProvider | None = None) -> IntakeApp:
    instrument_asyncpg(tracer_provider)
    pool = await create_pool(settings, application_name="intake")
    await check_connection(pool)  # a wrong DATABASE_URL fails the start, not the first request
    database = Database(pool)
    service = IntakeService(database, PiiCipher(settings.keyring()))
    verifier = JwtVerifier(settings.jwks(), issuer=settings.auth_issuer, audience=settings.auth_audience)
    api = IntakeApi(service)
    server = await build_server(
        services=[GrpcService(SERVICE_NAME, lambda grpc_server: register(grpc_server, api))],
        policy=ACCESS_POLICY,
        verifier=verifier,
        error_domain=ERROR_DOMAIN,
        listen=settings.grpc_listen,
        tracer_provider=tracer_provider,
    )
    link = JetStreamLink(settings.nats_servers)
    relay = OutboxRelay(
        Outbox(settings.database_url),
        EventPublisher(link, tracer_provider=tracer_provider),
        batch_size=settings.outbox_batch_size,
        safety_poll_seconds=settings.outbox_safety_poll_seconds,
    )
    return IntakeApp(server=server, relay=relay, pool=pool, link=link)


async def serve(settings: IntakeSettings) -> None:
    """Runs intake until SIGTERM or SIGINT, then drains."""
    runner, telemetry = start_service_process("intake", settings)
    app = await build(settings, tracer_provider=telemetry.tracer_provider)
    # Hooks run last-registered first, once the server has stopped taking calls: the relay publishes
    # what the last calls wrote before NATS and the database are closed.
    runner.on_shutdown(app.pool.close, name="database")
    runner.on_shutdown(app.link.close, name="nats")
    runner.on_shutdown(app.stop_relay, name="outbox relay")
    app.start_relay()
    await runner.serve(app.server)


async def rewrap(settings: IntakeSettings) -> int:
    """Re-wraps every data key under the current key-encryption key; safe while intake serves."""
    configure_logging("intake-rewrap", settings.log_level)
    pool = await create_pool(settings, application_name="intake-rewrap", max_size=2)
    try:
        service = IntakeService(Database(pool), PiiCipher(settings.keyring()))
        return await service.rewrap_keys()
    finally:
        await pool.close()
