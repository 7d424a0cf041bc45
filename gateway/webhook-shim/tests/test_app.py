"""The shim as a service: graceful stop with a delivery in flight, and the real process from its
environment to SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from typing import Any

import aiohttp
import asyncpg
from intake_workflow import Workflow
from webhook_shim_testkit import Bank, IntakeUnderTest, ShimFactory, confirmation

from globalcredit.intake.v1 import application_pb2
from svckit.testing.polling import eventually
from webhook_shim.signatures import WebhookSecret

S = application_pb2


async def test_stopping_refuses_new_connections_and_lets_an_in_flight_delivery_finish(
    start_shim: ShimFactory,
    http: aiohttp.ClientSession,
    secret: WebhookSecret,
    workflow: Workflow,
    intake: IntakeUnderTest,
) -> None:
    shim = await start_shim(shutdown_grace_seconds=10.0)
    app = await workflow.application_in(S.APPLICATION_STATUS_APPROVED)
    database = await asyncpg.connect(intake.database_url)
    try:
        # Hold the application's row, so intake's RecordBankConfirmation waits for it: a slow call,
        # in flight in the shim, made with nothing but the real intake.
        lock = database.transaction()
        await lock.start()
        await database.execute(
            "SELECT 1 FROM applications WHERE id = $1 FOR UPDATE", uuid.UUID(app.name.split("/")[1])
        )
        delivery = asyncio.create_task(Bank(http, shim.webhook_url, [secret]).deliver(confirmation(app.name)))
        await eventually(
            lambda: database.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )

        stopping = asyncio.create_task(shim.stop())
        await eventually(lambda: _refused(shim.health_url))
        assert not delivery.done()
        await lock.rollback()

        answer = await delivery
        await stopping
    finally:
        await database.close()
    assert (answer.status, answer.body["status"]) == (200, "APPLICATION_STATUS_COMPLETED")


async def _refused(url: str) -> bool:
    # A session of its own: a pooled keep-alive connection would not tell whether the listener is gone.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        try:
            async with session.get(url):
                return False
        except aiohttp.ClientConnectionError:
            return True


async def test_the_process_serves_from_its_environment_until_sigterm(
    intake: IntakeUnderTest, workflow: Workflow, http: aiohttp.ClientSession
) -> None:
    secret = WebhookSecret.generate()
    environment = {
        **os.environ,
        "WEBHOOK_SHIM_SECRETS": secret.encoded(),
        "SERVICE_TOKEN": intake.service_token(),
        "WEBHOOK_SHIM_INTAKE_ADDRESS": intake.address,
        "WEBHOOK_SHIM_HTTP_LISTEN": "127.0.0.1:0",
        "WEBHOOK_SHIM_METRICS_LISTEN": "127.0.0.1:0",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "webhook_shim", env=environment, stderr=asyncio.subprocess.PIPE
    )
    assert process.stderr is not None
    try:
        serving = await asyncio.wait_for(_line(process.stderr, "serving"), timeout=30)
        base = f"http://127.0.0.1:{serving['http_port']}"
        app = await workflow.application_in(S.APPLICATION_STATUS_APPROVED)

        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200
        answer = await Bank(http, f"{base}/webhooks/bank-confirmations", [secret]).deliver(
            confirmation(app.name)
        )
        assert answer.status == 200
        async with http.get(f"http://127.0.0.1:{serving['metrics_port']}/metrics") as response:
            assert 'webhook_deliveries_total{outcome="accepted"} 1.0' in await response.text()

        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
        rest = (await process.stderr.read()).decode()
        assert '"message": "stopped"' in rest
        assert secret.encoded() not in rest
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _line(stream: asyncio.StreamReader, message: str) -> dict[str, Any]:
    """The first JSON log line with `message`."""
    while line := await stream.readline():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("message") == message:
            return record
    raise AssertionError(f"the process ended without logging {message!r}")
