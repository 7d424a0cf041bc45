"""Fixtures for intake's integration and API tests: a migrated database per test (copied from a template
migrated once), a real intake server on a free port with its outbox relay, and clients per role."""

import asyncio
import base64
import inspect
import json
import os
import random
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg
import grpc
import pytest

from globalcredit.intake.v1 import intake_service_pb2_grpc
from intake.app import IntakeApp, build
from intake.migrate import migrate
from intake.pii import Keyring, PiiCipher
from intake.settings import IntakeSettings
from svckit.auth import TokenIssuer
from svckit.client import client_channel
from svckit.local.nats import LocalNats
from svckit.local.postgres import LocalPostgres

ISSUER = "globalcredit-test"
AUDIENCE = "globalcredit"
TEMPLATE_DATABASE = "intake_template"


@pytest.fixture(scope="session")
def issuer() -> TokenIssuer:
    return TokenIssuer.generate(ISSUER, AUDIENCE, kid="test")


@pytest.fixture(scope="session")
def keyring() -> Keyring:
    return Keyring(current_key_id="test-1", keys={"test-1": os.urandom(32)}, blind_index_key=os.urandom(32))


@pytest.fixture(scope="session")
def cipher(keyring: Keyring) -> PiiCipher:
    return PiiCipher(keyring)


@pytest.fixture(scope="session")
def intake_template(local_postgres: LocalPostgres) -> str:
    """A database migrated once; each test gets a copy, which is much faster than migrating."""
    url = local_postgres.create_database(TEMPLATE_DATABASE)
    migrate(url)
    return url


@pytest.fixture
async def database_url(local_postgres: LocalPostgres, intake_template: str) -> str:
    return await copy_template(local_postgres)


async def copy_template(local_postgres: LocalPostgres) -> str:
    """A new database copied from the migrated template."""
    name = f"intake_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(local_postgres.database_url("postgres"))
    try:
        await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DATABASE}"')
    finally:
        await connection.close()
    return local_postgres.database_url(name)


def settings_for(database_url: str, nats_url: str, issuer: TokenIssuer, keyring: Keyring) -> IntakeSettings:
    return IntakeSettings(
        database_url=database_url,
        nats_url=nats_url,
        grpc_listen="127.0.0.1:0",
        metrics_listen="127.0.0.1:0",
        auth_jwks_json=json.dumps(issuer.jwks()),
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        pii_keys=json.dumps({key_id: base64.b64encode(key).decode() for key_id, key in keyring.keys.items()}),
        pii_current_key_id=keyring.current_key_id,
        blind_index_key=base64.b64encode(keyring.blind_index_key).decode(),
        outbox_safety_poll_seconds=1.0,
    )


@dataclass
class RunningIntake:
    """An intake server under test, and clients for it that carry a token of a given role."""

    app: IntakeApp
    address: str
    database_url: str
    issuer: TokenIssuer
    _channels: list[grpc.aio.Channel] = field(default_factory=list)

    def client(
        self,
        *roles: str,
        subject: str | None = None,
        partner_id: str | None = None,
        permissions: tuple[str, ...] = (),
    ) -> intake_service_pb2_grpc.IntakeServiceStub:
        roles = roles or ("analyst",)
        token = self.issuer.mint(
            subject or f"{roles[0]}-{uuid.uuid4().hex[:6]}",
            roles,
            partner_id=partner_id,
            permissions=permissions,
        )
        return self.client_with_token(token)

    def client_with_token(self, token: str) -> intake_service_pb2_grpc.IntakeServiceStub:
        channel = client_channel(self.address, token_provider=lambda: token, tracing=False)
        self._channels.append(channel)
        return intake_service_pb2_grpc.IntakeServiceStub(channel)

    def anonymous(self) -> intake_service_pb2_grpc.IntakeServiceStub:
        channel = grpc.aio.insecure_channel(self.address)
        self._channels.append(channel)
        return intake_service_pb2_grpc.IntakeServiceStub(channel)

    async def close_clients(self) -> None:
        await asyncio.gather(*(channel.close() for channel in self._channels))


@pytest.fixture
def intake_settings(
    database_url: str, nats_url: str, issuer: TokenIssuer, keyring: Keyring
) -> Callable[[], IntakeSettings]:
    return lambda: settings_for(database_url, nats_url, issuer, keyring)


@asynccontextmanager
async def running_intake(settings: IntakeSettings, issuer: TokenIssuer) -> AsyncIterator[RunningIntake]:
    app = await build(settings)
    await app.start()
    running = RunningIntake(app, f"127.0.0.1:{app.server.port}", settings.database_url, issuer)
    try:
        yield running
    finally:
        await running.close_clients()
        await app.stop(grace=1.0)


@pytest.fixture
async def intake(
    intake_settings: Callable[[], IntakeSettings], issuer: TokenIssuer
) -> AsyncIterator[RunningIntake]:
    """A running intake on its own fresh database."""
    async with running_intake(intake_settings(), issuer) as running:
        yield running


@pytest.fixture(scope="module")
async def shared_intake(
    local_postgres: LocalPostgres,
    local_nats: LocalNats,
    intake_template: str,
    issuer: TokenIssuer,
    keyring: Keyring,
) -> AsyncIterator[RunningIntake]:
    """One running intake for a whole module, for tests that only add independent applications."""
    database_url = await copy_template(local_postgres)
    if not local_nats.running:
        local_nats.start()
    async with running_intake(settings_for(database_url, local_nats.url, issuer, keyring), issuer) as running:
        yield running


Condition = Callable[[], object | Awaitable[object]]
Eventually = Callable[..., Awaitable[object]]


async def _eventually(condition: Condition, within: float = 10.0) -> object:
    """Polls `condition` (sync or async) until it returns something truthy, which it returns; fails
    after `within` seconds, with the last value in the message."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s (last value: {value!r})")
        await asyncio.sleep(0.02)


@pytest.fixture(scope="session")
def eventually() -> Eventually:
    """`await eventually(lambda: ..., within)`: poll a condition with a deadline instead of sleeping."""
    return _eventually


@pytest.fixture
def rng() -> random.Random:
    """Random sample data: each run tries other applicants."""
    return random.Random()
