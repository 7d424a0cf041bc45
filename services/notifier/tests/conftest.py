"""Fixtures for notifier's tests: NATS of its own (tests purge and restart it), a real intake producing real
events on a migrated database, a notifier per test on a free port, and clients per role."""

import asyncio
import base64
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from intake_workflow import Workflow
from notifier_watchers import Watcher

from globalcredit.intake.v1 import intake_service_pb2_grpc
from globalcredit.notifier.v1 import notifier_service_pb2, notifier_service_pb2_grpc
from intake.app import IntakeApp
from intake.app import build as build_intake
from intake.migrate import migrate
from intake.settings import IntakeSettings
from notifier.app import NotifierApp
from notifier.app import build as build_notifier
from notifier.settings import NotifierSettings
from svckit.auth import TokenIssuer
from svckit.client import client_channel
from svckit.local.nats import LocalNats
from svckit.local.postgres import LocalPostgres
from svckit.testing.polling import eventually

WatchCall = grpc.aio.UnaryStreamCall[
    notifier_service_pb2.WatchApplicationsRequest, notifier_service_pb2.WatchApplicationsResponse
]

ISSUER = "globalcredit-test"
AUDIENCE = "globalcredit"
# Longer than any test: a watch has no deadline of its own.
WATCH_TIMEOUT = 600.0


@pytest.fixture(scope="session")
def issuer() -> TokenIssuer:
    return TokenIssuer.generate(ISSUER, AUDIENCE, kid="test")


@pytest.fixture(scope="session")
def events_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNats]:
    """NATS for notifier's tests alone: they purge the intake stream and restart the server."""
    directory = Path(tempfile.mkdtemp(prefix="notifier-nats-"))
    logs = tmp_path_factory.mktemp("notifier-nats")
    # Tests need no fsync: nothing they store has to outlive the session.
    server = LocalNats(
        directory / "store", name="notifier-tests", log_file=logs / "nats.log", sync_always=False
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def nats_server(events_nats: LocalNats) -> LocalNats:
    """The tests' NATS, running (started again if an earlier test stopped it)."""
    if not events_nats.running:
        events_nats.start()
    return events_nats


def intake_settings(database_url: str, nats_url: str, issuer: TokenIssuer) -> IntakeSettings:
    keys = {"test-1": base64.b64encode(os.urandom(32)).decode()}
    return IntakeSettings(
        database_url=database_url,
        nats_url=nats_url,
        grpc_listen="127.0.0.1:0",
        metrics_listen="127.0.0.1:0",
        auth_jwks_json=json.dumps(issuer.jwks()),
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        pii_keys=json.dumps(keys),
        pii_current_key_id="test-1",
        blind_index_key=base64.b64encode(os.urandom(32)).decode(),
        outbox_safety_poll_seconds=1.0,
    )


@dataclass
class Clients:
    """gRPC clients whose calls carry a token of a given role, closed together at the end."""

    issuer: TokenIssuer
    _channels: list[grpc.aio.Channel] = field(default_factory=list)

    def token(self, *roles: str, partner_id: str | None = None) -> str:
        subject = f"{roles[0] if roles else 'nobody'}-{uuid.uuid4().hex[:6]}"
        return self.issuer.mint(subject, roles, partner_id=partner_id)

    def channel(self, address: str, token: str | None = None, **options: int) -> grpc.aio.Channel:
        """With a token, an svckit client channel (unary calls only: grpc.aio registers an interceptor
        for the first call kind it implements, so svckit's adds no token to streaming calls); without,
        a plain one (`options` are channel arguments)."""
        if token is None:
            channel = grpc.aio.insecure_channel(address, options=list(options.items()))
        else:
            channel = client_channel(address, token_provider=lambda: token, tracing=False)
        self._channels.append(channel)
        return channel

    async def close(self) -> None:
        await asyncio.gather(*(channel.close() for channel in self._channels))
        self._channels.clear()


@dataclass
class RunningIntake:
    app: IntakeApp
    address: str
    clients: Clients

    def client(self, *roles: str, partner_id: str | None = None) -> intake_service_pb2_grpc.IntakeServiceStub:
        token = self.clients.token(*(roles or ("analyst",)), partner_id=partner_id)
        return intake_service_pb2_grpc.IntakeServiceStub(self.clients.channel(self.address, token))

    def workflow(self, *roles: str, partner_id: str | None = None) -> Workflow:
        """Creates (and cancels) as `roles` (analyst by default); scoring and bank moves as `service`."""
        return Workflow(self.client(*roles, partner_id=partner_id), self.client("service"))


@asynccontextmanager
async def running_intake(
    local_postgres: LocalPostgres, nats_url: str, issuer: TokenIssuer
) -> AsyncIterator[RunningIntake]:
    """An intake on a newly migrated database of its own."""
    name = f"notifier_intake_{uuid.uuid4().hex[:8]}"
    database_url = await asyncio.to_thread(local_postgres.create_database, name)
    await asyncio.to_thread(migrate, database_url)
    app = await build_intake(intake_settings(database_url, nats_url, issuer))
    await app.start()
    clients = Clients(issuer)
    try:
        yield RunningIntake(app, f"127.0.0.1:{app.server.port}", clients)
    finally:
        await clients.close()
        await app.stop(grace=1.0)


@pytest.fixture(scope="session")
async def intake(
    local_postgres: LocalPostgres, events_nats: LocalNats, issuer: TokenIssuer
) -> AsyncIterator[RunningIntake]:
    """One intake for the session: tests only add applications of their own, and watch those."""
    async with running_intake(local_postgres, events_nats.url, issuer) as running:
        # The relay creates the INTAKE stream on first use; make it exist before any notifier starts.
        await running.app.link.jetstream()
        yield running


@dataclass
class RunningNotifier:
    app: NotifierApp
    address: str
    clients: Clients

    def call(
        self,
        *roles: str,
        partner_id: str | None = None,
        token: str | None = None,
        channel_options: dict[str, int] | None = None,
        **request: Any,
    ) -> WatchCall:
        """A WatchApplications call as `roles` (analyst by default), or with `token` ("" for none)."""
        if token is None:
            token = self.clients.token(*(roles or ("analyst",)), partner_id=partner_id)
        channel = self.clients.channel(self.address, **(channel_options or {}))
        metadata = (("authorization", f"Bearer {token}"),) if token else ()
        stub = notifier_service_pb2_grpc.NotifierServiceStub(channel)
        return stub.WatchApplications(
            notifier_service_pb2.WatchApplicationsRequest(**request), timeout=WATCH_TIMEOUT, metadata=metadata
        )

    def watch(self, *roles: str, **arguments: Any) -> Watcher:
        """A watcher reading in the background (see `call`); not necessarily live yet."""
        return Watcher(self.call(*roles, **arguments)).start()

    async def live_watchers(self, count: int) -> None:
        """Wait until `count` watchers are registered for live events (so none misses a change made next)."""
        await eventually(lambda: self.app.hub.live_count == count, within=15.0)

    async def health(self) -> int:
        stub = health_pb2_grpc.HealthStub(self.clients.channel(self.address))
        response = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
        return int(response.status)


@asynccontextmanager
async def running_notifier(
    nats_url: str, issuer: TokenIssuer, *, wait_ready: bool = True, **overrides: Any
) -> AsyncIterator[RunningNotifier]:
    settings = NotifierSettings(
        nats_url=nats_url,
        grpc_listen="127.0.0.1:0",
        metrics_listen="127.0.0.1:0",
        auth_jwks_json=json.dumps(issuer.jwks()),
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        **overrides,
    )
    app = await build_notifier(settings)
    await app.start()
    clients = Clients(issuer)
    running = RunningNotifier(app, f"127.0.0.1:{app.server.port}", clients)
    try:
        if wait_ready:
            await eventually(lambda: app.hub.ready, within=15.0)
        yield running
    finally:
        await clients.close()
        await app.stop(grace=1.0)


@pytest.fixture
async def notifier(
    nats_server: LocalNats, intake: RunningIntake, issuer: TokenIssuer
) -> AsyncIterator[RunningNotifier]:
    """A notifier of its own for each test, with the default settings."""
    async with running_notifier(nats_server.url, issuer) as running:
        yield running


@pytest.fixture
def start_notifier(nats_server: LocalNats, intake: RunningIntake, issuer: TokenIssuer) -> Any:
    """`async with start_notifier(watcher_buffer=4) as notifier:` — a notifier with other settings."""
    return lambda **overrides: running_notifier(nats_server.url, issuer, **overrides)


@pytest.fixture
def notifier_on(issuer: TokenIssuer) -> Any:
    """`async with notifier_on(nats_url, wait_ready=False) as notifier:` — a notifier on other NATS."""
    return lambda nats_url, **arguments: running_notifier(nats_url, issuer, **arguments)


@pytest.fixture
def intake_on(local_postgres: LocalPostgres, issuer: TokenIssuer) -> Any:
    """`async with intake_on(nats_url) as intake:` — an intake (with a database of its own) on other NATS."""
    return lambda nats_url: running_intake(local_postgres, nats_url, issuer)
