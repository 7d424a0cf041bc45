"""Notifier's composition root: connects NATS, builds the hub, the live feed and the gRPC server, runs them,
and on SIGTERM ends every watch with UNAVAILABLE before the server stops."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from nats.aio.client import Client
from opentelemetry.sdk.trace import TracerProvider

from notifier.api import ACCESS_POLICY, ERROR_DOMAIN, SERVICE_NAME, NotifierApi, register
from notifier.feed import StatusFeed
from notifier.settings import NotifierSettings
from notifier.watch import Hub
from svckit.auth import JwtVerifier
from svckit.jetstream import connect_nats
from svckit.process import start_service_process
from svckit.server import BuiltServer, GrpcService, build_server


@dataclass
class WatchServer(BuiltServer):
    """A built server whose stop first ends the open watches.

    Watch streams never finish by themselves, so without this every one of them would run into the
    grace period and be cancelled. Ended with UNAVAILABLE `SHUTTING_DOWN` instead, clients reconnect at
    once with their last resume token, and land on a replica that is not draining.
    """

    hub: Hub | None = None

    async def stop(self, grace: float, *, drain: float = 0.0) -> None:
        await self.health.enter_graceful_shutdown()
        if drain > 0:
            # Watches keep flowing while load balancers take this replica out of rotation.
            await asyncio.sleep(drain)
        if self.hub is not None:
            self.hub.close()
        await super().stop(grace)


@dataclass
class NotifierApp:
    """A built notifier: its server (bound, not started), hub, live feed and NATS connection."""

    server: WatchServer
    hub: Hub
    feed: StatusFeed
    nats: Client
    _feed_task: asyncio.Task[None] | None = None
    _stopped: bool = False

    async def start(self) -> None:
        await self.server.start()
        self.start_feed()

    def start_feed(self) -> None:
        self._feed_task = asyncio.create_task(self.feed.run(self.hub), name="notifier-live-feed")

    async def stop(self, grace: float = 5.0) -> None:
        """End the watches (UNAVAILABLE), stop the server, then the feed and NATS; once."""
        if self._stopped:
            return
        self._stopped = True
        await self.server.stop(grace)
        await self.close()

    async def close(self) -> None:
        if self._feed_task is not None:
            self._feed_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._feed_task
            self._feed_task = None
        await self.hub.wait_background()
        await self.nats.close()


async def build(settings: NotifierSettings, *, tracer_provider: TracerProvider | None = None) -> NotifierApp:
    verifier = JwtVerifier(settings.jwks(), issuer=settings.auth_issuer, audience=settings.auth_audience)
    nats = await connect_nats(settings.nats_servers, name="notifier")
    try:
        feed = StatusFeed(
            nats.jetstream(),
            stream=settings.stream,
            subject=settings.subject,
            heartbeat_seconds=settings.heartbeat_seconds,
        )
        hub = Hub(
            feed,
            buffer_size=settings.watcher_buffer,
            max_watchers=settings.max_watchers,
            recent_events=settings.recent_events,
            max_replays=settings.max_replays,
        )
        api = NotifierApi(hub)
        built = await build_server(
            services=[GrpcService(SERVICE_NAME, lambda grpc_server: register(grpc_server, api))],
            policy=ACCESS_POLICY,
            verifier=verifier,
            error_domain=ERROR_DOMAIN,
            listen=settings.grpc_listen,
            tracer_provider=tracer_provider,
        )
    except BaseException:
        await nats.close()
        raise
    server = WatchServer(
        server=built.server,
        port=built.port,
        health=built.health,
        service_names=built.service_names,
        hub=hub,
    )
    return NotifierApp(server=server, hub=hub, feed=feed, nats=nats)


async def serve(settings: NotifierSettings) -> None:
    """Runs notifier until SIGTERM or SIGINT, then drains."""
    runner, telemetry = start_service_process("notifier", settings)
    app = await build(settings, tracer_provider=telemetry.tracer_provider)
    # Hooks run last-registered first, once the server has stopped: closing NATS ends the live feed.
    runner.on_shutdown(app.nats.close, name="nats")
    runner.on_shutdown(app.hub.wait_background, name="replay consumers")
    runner.spawn("notifier-live-feed", app.feed.run(app.hub))
    await runner.serve(app.server)
