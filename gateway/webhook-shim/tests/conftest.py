"""Fixtures for the shim's tests: a real intake (its own migrated database, the session's NATS) started once,
the shim on a free port in front of it, a bank that signs deliveries, and a workflow that puts applications
where a test needs them."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from intake_workflow import Workflow
from webhook_shim_testkit import Bank, IntakeUnderTest, JsonLogs, ShimFactory, Snapshot, Snapshotter

from globalcredit.intake.v1 import application_pb2, intake_service_pb2, intake_service_pb2_grpc
from intake.app import build
from intake.migrate import migrate
from intake.settings import IntakeSettings
from svckit.auth import TokenIssuer
from svckit.local.nats import LocalNats
from svckit.local.postgres import LocalPostgres
from svckit.logging import JsonFormatter
from webhook_shim.app import WebhookShim, start
from webhook_shim.settings import WebhookShimSettings
from webhook_shim.signatures import WebhookSecret

ISSUER = "webhook-shim-test"
AUDIENCE = "globalcredit"
S = application_pb2


@pytest.fixture(scope="session")
def issuer() -> TokenIssuer:
    return TokenIssuer.generate(ISSUER, AUDIENCE, kid="shim-test")


@pytest.fixture(scope="session")
async def intake(
    local_postgres: LocalPostgres, local_nats: LocalNats, issuer: TokenIssuer
) -> AsyncIterator[IntakeUnderTest]:
    """One intake for the session on a database migrated for it. Tests stay independent because each
    works on applications of its own."""
    database_url = await asyncio.to_thread(local_postgres.create_database, f"shim_{uuid.uuid4().hex[:12]}")
    await asyncio.to_thread(migrate, database_url)
    if not local_nats.running:
        local_nats.start()
    settings = IntakeSettings(
        database_url=database_url,
        nats_url=local_nats.url,
        grpc_listen="127.0.0.1:0",
        metrics_listen="127.0.0.1:0",
        auth_jwks_json=json.dumps(issuer.jwks()),
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        pii_keys=json.dumps({"test-1": base64.b64encode(os.urandom(32)).decode()}),
        pii_current_key_id="test-1",
        blind_index_key=base64.b64encode(os.urandom(32)).decode(),
    )
    app = await build(settings)
    await app.start()
    running = IntakeUnderTest(f"127.0.0.1:{app.server.port}", database_url, issuer)
    try:
        yield running
    finally:
        await running.close()
        await app.stop(grace=1.0)


@pytest.fixture(scope="session")
async def analyst(intake: IntakeUnderTest) -> intake_service_pb2_grpc.IntakeServiceStub:
    # async, so the channel is made on the session's event loop (grpc.aio needs a loop to exist)
    return intake.client("analyst")


@pytest.fixture(scope="session")
async def workflow(intake: IntakeUnderTest, analyst: intake_service_pb2_grpc.IntakeServiceStub) -> Workflow:
    return Workflow(analyst, intake.client("service", subject="scoring"))


@pytest.fixture(scope="session")
def secret() -> WebhookSecret:
    """The secret the shim is configured with by default."""
    return WebhookSecret.generate()


@pytest.fixture
async def start_shim(intake: IntakeUnderTest, secret: WebhookSecret) -> AsyncIterator[ShimFactory]:
    """`await start_shim(**settings)`: a shim on a free port in front of the test intake; stopped after."""
    started: list[WebhookShim] = []

    async def start_one(**overrides: Any) -> WebhookShim:
        values: dict[str, Any] = {
            "secrets": secret.encoded(),
            "http_listen": "127.0.0.1:0",
            "metrics_listen": "127.0.0.1:0",
            "intake_address": intake.address,
            "service_token": intake.service_token(),
            "shutdown_grace_seconds": 5.0,
            **overrides,
        }
        shim = await start(WebhookShimSettings(**values))
        started.append(shim)
        return shim

    yield start_one
    for shim in started:
        await shim.stop()


@pytest.fixture
async def shim(start_shim: ShimFactory) -> WebhookShim:
    return await start_shim()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


@pytest.fixture
def bank(shim: WebhookShim, http: aiohttp.ClientSession, secret: WebhookSecret) -> Bank:
    """A bank that signs with the shim's secret and delivers to the shim."""
    return Bank(http, shim.webhook_url, [secret])


@pytest.fixture(scope="session")
def snapshot(analyst: intake_service_pb2_grpc.IntakeServiceStub) -> Snapshotter:
    async def take(name: str) -> Snapshot:
        request = intake_service_pb2.GetApplicationRequest(name=name)
        application = (await analyst.GetApplication(request)).application
        events = await analyst.ListApplicationEvents(
            intake_service_pb2.ListApplicationEventsRequest(name=name, page_size=100)
        )
        return Snapshot(
            etag=application.etag,
            status=application.status,
            confirmations=len(application.bank_confirmations),
            events=tuple(events.events),
        )

    return take


@pytest.fixture
def approved(workflow: Workflow) -> Callable[[], Awaitable[application_pb2.Application]]:
    return lambda: workflow.application_in(S.APPLICATION_STATUS_APPROVED)


@pytest.fixture
def json_logs() -> Iterator[JsonLogs]:
    """Captures every record at DEBUG and above, formatted when it is emitted (in its own context)."""
    logs = JsonLogs()
    handler = logging.StreamHandler(logs.stream)
    handler.setFormatter(JsonFormatter("test"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield logs
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
