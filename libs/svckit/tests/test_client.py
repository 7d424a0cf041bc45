"""Outgoing calls through `client_channel`: token, request id, deadline and trace context are added."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc.aio
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from svckit.auth import TokenIssuer
from svckit.client import client_channel, token_provider
from svckit.context import request_scope
from svckit.server import BuiltServer
from svckit.settings import CallerSettings

SERVICE = "svckit.test.v1.TestService"
# gRPC rounds a deadline up when it encodes grpc-timeout, so the server may see a little more.
SLACK = 0.1


@pytest.fixture
async def service_channel(built: BuiltServer, issuer: TokenIssuer) -> AsyncIterator[grpc.aio.Channel]:
    token = issuer.mint("scoring", ["service", "analyst"])
    async with client_channel(
        f"127.0.0.1:{built.port}", token_provider=lambda: token, default_timeout=1.5
    ) as channel:
        yield channel


async def call(channel: grpc.aio.Channel, method: str, request: bytes = b"", **kwargs: Any) -> bytes:
    response: bytes = await channel.unary_unary(f"/{SERVICE}/{method}")(request, **kwargs)
    return response


async def test_calls_carry_the_token(service_channel: grpc.aio.Channel) -> None:
    seen = json.loads(await call(service_channel, "WhoAmI"))

    assert seen["subject"] == "scoring"


async def test_streaming_calls_carry_the_token_too(service_channel: grpc.aio.Channel) -> None:
    # "Count" needs the analyst role: without the token the server would refuse the stream.
    stream = service_channel.unary_stream(f"/{SERVICE}/Count")(b"2")
    assert [message async for message in stream] == [b"0", b"1"]


async def test_a_stream_without_a_timeout_gets_no_deadline(service_channel: grpc.aio.Channel) -> None:
    stream = service_channel.unary_stream(f"/{SERVICE}/Watch")(b"")
    try:
        assert await stream.read() == b"first"
        # The channel's default deadline is 1.5 s: with it, this read would fail with DEADLINE_EXCEEDED
        # before our own 2 s wait ends.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(stream.read(), timeout=2.0)
    finally:
        stream.cancel()


async def test_calls_carry_the_current_request_id(service_channel: grpc.aio.Channel) -> None:
    with request_scope("incoming-req-1"):
        seen = json.loads(await call(service_channel, "WhoAmI"))

    assert seen["request_id"] == "incoming-req-1"


async def test_calls_without_a_timeout_get_the_default_deadline(
    service_channel: grpc.aio.Channel, state: Any
) -> None:
    await call(service_channel, "Echo")

    (remaining,) = state.seen_deadlines
    assert remaining is not None
    assert 0 < remaining <= 1.5 + SLACK


async def test_calls_inherit_a_shorter_incoming_deadline(
    service_channel: grpc.aio.Channel, state: Any
) -> None:
    with request_scope("req", deadline=time.monotonic() + 0.5):
        await call(service_channel, "Echo")

    (remaining,) = state.seen_deadlines
    assert remaining is not None
    assert 0 < remaining <= 0.5 + SLACK


async def test_an_explicit_timeout_wins(service_channel: grpc.aio.Channel, state: Any) -> None:
    await call(service_channel, "Echo", timeout=4.0)

    (remaining,) = state.seen_deadlines
    assert remaining is not None
    assert 1.5 + SLACK < remaining <= 4.0 + SLACK


async def test_calls_continue_the_current_trace_with_one_traceparent(
    service_channel: grpc.aio.Channel,
    state: Any,
    tracer_provider: TracerProvider,
    span_exporter: InMemorySpanExporter,
) -> None:
    span_exporter.clear()
    with tracer_provider.get_tracer("test").start_as_current_span("caller") as caller:
        await call(service_channel, "Echo")

    (metadata,) = state.seen_metadata
    assert [key for key, _ in metadata].count("traceparent") == 1
    (server_span,) = [s for s in span_exporter.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert server_span.context.trace_id == caller.get_span_context().trace_id


def test_a_token_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("first\n")
    provider = token_provider(CallerSettings(service_token_file=path))
    assert provider() == "first"
    path.write_text("second\n")
    os.utime(path, ns=(time.time_ns() + 1_000_000_000,) * 2)  # a rotation is a newer file
    assert provider() == "second"


def test_a_fixed_token_is_used_as_is() -> None:
    assert token_provider(CallerSettings(service_token="t-1"))() == "t-1"


def test_a_caller_without_a_token_is_refused() -> None:
    with pytest.raises(ValueError, match="SERVICE_TOKEN"):
        CallerSettings()
