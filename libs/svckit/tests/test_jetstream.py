"""JetStream helpers against a real nats-server: streams, publish with de-duplication, reconnects."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import StorageType
from opentelemetry.sdk.trace import TracerProvider

from svckit.context import request_scope
from svckit.jetstream import connect_nats, ensure_stream, publish
from svckit.local import LocalNats


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await connect_nats(nats_url, name="svckit-test")
    try:
        yield client
    finally:
        await client.close()


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}".upper()


async def test_ensure_stream_creates_then_updates(nc: Client) -> None:
    js = nc.jetstream()
    name = unique("events")

    created = await ensure_stream(
        js, name, [f"{name.lower()}.>"], sync_always=True, max_age=timedelta(days=7)
    )
    updated = await ensure_stream(
        js, name, [f"{name.lower()}.>"], sync_always=True, max_age=timedelta(days=30)
    )

    assert created.config.max_age == timedelta(days=7).total_seconds()
    assert updated.config.max_age == timedelta(days=30).total_seconds()
    assert created.config.storage == StorageType.FILE
    assert updated.config.metadata is not None
    assert updated.config.metadata["sync"] == "always"


async def test_publishing_the_same_msg_id_twice_stores_it_once(nc: Client) -> None:
    js = nc.jetstream()
    name = unique("dedup")
    subject = f"{name.lower()}.created"
    await ensure_stream(js, name, [subject], sync_always=False, max_age=timedelta(hours=1))

    first = await publish(js, subject, b"payload", msg_id="event-1", timeout=5)
    second = await publish(js, subject, b"payload", msg_id="event-1", timeout=5)
    third = await publish(js, subject, b"other", msg_id="event-2", timeout=5)

    assert not first.duplicate
    assert second.duplicate is True
    assert second.seq == first.seq
    assert third.seq == first.seq + 1
    assert (await js.stream_info(name)).state.messages == 2


async def test_published_headers_carry_id_request_id_and_trace(
    nc: Client, tracer_provider: TracerProvider
) -> None:
    js = nc.jetstream()
    name = unique("headers")
    subject = f"{name.lower()}.created"
    await ensure_stream(js, name, [subject], sync_always=False, max_age=timedelta(hours=1))

    with request_scope("req-pub"), tracer_provider.get_tracer("t").start_as_current_span("outbox") as span:
        ack = await publish(js, subject, b"x", msg_id="event-9", headers={"Content-Type": "proto"}, timeout=5)

    stored = await js.get_msg(name, ack.seq)
    assert stored.headers is not None
    assert stored.headers["Nats-Msg-Id"] == "event-9"
    assert stored.headers["X-Request-Id"] == "req-pub"
    assert stored.headers["Content-Type"] == "proto"
    assert format(span.get_span_context().trace_id, "032x") in stored.headers["traceparent"]


async def test_the_connection_survives_a_server_restart(nats_process: LocalNats) -> None:
    server = nats_process
    server.start()
    client = await connect_nats(server.url, name="restart-test", reconnect_wait=0.1)
    try:
        js = client.jetstream()
        await ensure_stream(js, "RESTART", ["restart.>"], sync_always=True, max_age=timedelta(hours=1))
        await publish(js, "restart.a", b"1", msg_id="a", timeout=5)

        server.stop()
        server.start()

        ack = None
        for _ in range(100):  # the client reconnects on its own; publish as soon as it has
            try:
                ack = await publish(js, "restart.b", b"2", msg_id="b", timeout=0.5)
                break
            except (nats.errors.Error, TimeoutError):
                continue
        assert ack is not None
        assert ack.seq == 2
        assert client.is_connected
    finally:
        await client.close()
