"""Fixtures for svckit's tests: a token issuer, a real gRPC server hosting a small test service, and a
real nats-server with JetStream on a free port."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from svckit.auth import AccessPolicy, JwtVerifier, TokenIssuer, current_principal
from svckit.context import current_request_id, time_remaining
from svckit.errors import FieldViolation, InvalidArgument, NotFound
from svckit.local import LocalNats
from svckit.server import BuiltServer, GrpcService, build_server
from svckit.testing import polling

SERVICE = "svckit.test.v1.TestService"
ISSUER = "svckit-test"
AUDIENCE = "svckit-test-audience"
ERROR_DOMAIN = "test.svckit"


def method(name: str) -> str:
    return f"/{SERVICE}/{name}"


POLICY = AccessPolicy.for_service(
    SERVICE,
    {
        "Echo": {"analyst", "admin"},
        "WhoAmI": {"analyst", "admin", "partner"},
        "Fail": {"analyst"},
        "Slow": {"analyst"},
        "Count": {"analyst"},
        "Sum": {"analyst"},
        "Watch": {"analyst"},
        "AdminOnly": {"admin"},
    },
    public=["Public"],
)


@dataclass
class ServiceState:
    """Lets a test hold a `Slow` call in flight and see what handlers observed."""

    slow_started: asyncio.Event = field(default_factory=asyncio.Event)
    release_slow: asyncio.Event = field(default_factory=asyncio.Event)
    seen_deadlines: list[float | None] = field(default_factory=list)
    seen_metadata: list[list[tuple[str, str | bytes]]] = field(default_factory=list)


def sample_service(state: ServiceState) -> GrpcService:
    """A generic-handler service on raw bytes, so the tests need no generated protos."""

    async def echo(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        state.seen_deadlines.append(time_remaining())
        state.seen_metadata.append(list(context.invocation_metadata() or ()))
        return request

    async def who_am_i(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        principal = current_principal()
        return json.dumps(
            {
                "subject": principal.subject,
                "roles": sorted(principal.roles),
                "partner_id": principal.partner_id,
                "permissions": sorted(principal.permissions),
                "request_id": current_request_id(),
            }
        ).encode()

    async def fail(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        if request == b"not-found":
            raise NotFound("thing not found", reason="THING_NOT_FOUND", metadata={"name": "things/42"})
        if request == b"invalid":
            raise InvalidArgument(
                "the request is invalid",
                reason="REQUEST_INVALID",
                violations=[
                    FieldViolation("thing.name", "must not be empty", reason="REQUIRED"),
                    FieldViolation("thing.size", "must be positive"),
                ],
            )
        if request == b"abort":
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "handler aborted")
        raise RuntimeError("secret internal detail: password=hunter2")

    async def slow(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        state.slow_started.set()
        await state.release_slow.wait()
        return b"finished"

    async def count(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> Any:
        for number in range(int(request)):
            yield str(number).encode()
        if request == b"3":
            raise NotFound("ran out", reason="RAN_OUT")

    async def watch(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> Any:
        yield b"first"
        await asyncio.Event().wait()

    async def total(requests: Any, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        return str(sum([int(r) async for r in requests])).encode()

    handlers = {
        "Echo": grpc.unary_unary_rpc_method_handler(echo),
        "WhoAmI": grpc.unary_unary_rpc_method_handler(who_am_i),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
        "Slow": grpc.unary_unary_rpc_method_handler(slow),
        "Count": grpc.unary_stream_rpc_method_handler(count),
        "Sum": grpc.stream_unary_rpc_method_handler(total),
        "Watch": grpc.unary_stream_rpc_method_handler(watch),
        "AdminOnly": grpc.unary_unary_rpc_method_handler(echo),
        "Public": grpc.unary_unary_rpc_method_handler(echo),
        "Unlisted": grpc.unary_unary_rpc_method_handler(echo),
    }

    def register(server: grpc.aio.Server) -> None:
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))

    return GrpcService(name=SERVICE, register=register)


Condition = Callable[[], bool]


@pytest.fixture(scope="session")
def eventually() -> Callable[[Condition, float], Awaitable[None]]:
    """`await eventually(lambda: ...)`: poll a condition until it holds, failing after a deadline.

    For effects that land just after the client has its answer (an aborted RPC's metrics and log line
    are recorded after gRPC has sent the status).
    """
    return polling.eventually


@pytest.fixture(scope="session")
def issuer() -> TokenIssuer:
    return TokenIssuer.generate(ISSUER, AUDIENCE, kid="test-key")


@pytest.fixture(scope="session")
def verifier(issuer: TokenIssuer) -> JwtVerifier:
    return JwtVerifier(issuer.jwks(), issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture(scope="session")
def analyst_token(issuer: TokenIssuer) -> str:
    return issuer.mint("analyst-1", ["analyst"])


@pytest.fixture(scope="session")
def span_exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture(scope="session")
def tracer_provider(span_exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    return provider


@pytest.fixture
def state() -> ServiceState:
    return ServiceState()


ServerFactory = Callable[[], Awaitable[BuiltServer]]


@pytest.fixture
async def build(
    state: ServiceState, verifier: JwtVerifier, tracer_provider: TracerProvider
) -> AsyncIterator[ServerFactory]:
    """A factory: `await build()` → a bound, not yet started server hosting the sample service."""
    servers: list[BuiltServer] = []

    async def factory() -> BuiltServer:
        server = await build_server(
            services=[sample_service(state)],
            policy=POLICY,
            verifier=verifier,
            error_domain=ERROR_DOMAIN,
            listen="127.0.0.1:0",
            tracer_provider=tracer_provider,
        )
        servers.append(server)
        return server

    try:
        yield factory
    finally:
        state.release_slow.set()
        for server in servers:
            await server.stop(0)


@pytest.fixture
async def built(build: ServerFactory) -> BuiltServer:
    server = await build()
    await server.start()
    return server


@pytest.fixture
async def channel(built: BuiltServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{built.port}") as raw_channel:
        yield raw_channel


@dataclass
class RawClient:
    """Calls the sample service through a plain channel (no svckit client interceptors)."""

    channel: grpc.aio.Channel
    service: str = SERVICE

    def _metadata(
        self, token: str | None, metadata: tuple[tuple[str, str], ...]
    ) -> tuple[tuple[str, str], ...]:
        return ((("authorization", f"Bearer {token}"),) if token else ()) + metadata

    def unary(
        self,
        name: str,
        request: bytes = b"",
        *,
        token: str | None = None,
        metadata: tuple[tuple[str, str], ...] = (),
        timeout: float | None = 5.0,
    ) -> grpc.aio.UnaryUnaryCall[bytes, bytes]:
        multicallable = self.channel.unary_unary(f"/{self.service}/{name}")
        return multicallable(request, metadata=self._metadata(token, metadata), timeout=timeout)

    def server_stream(
        self,
        name: str,
        request: bytes,
        *,
        token: str | None = None,
        metadata: tuple[tuple[str, str], ...] = (),
    ) -> grpc.aio.UnaryStreamCall[bytes, bytes]:
        multicallable = self.channel.unary_stream(f"/{self.service}/{name}")
        return multicallable(request, metadata=self._metadata(token, metadata), timeout=5.0)

    def client_stream(
        self, name: str, requests: list[bytes], *, token: str | None = None
    ) -> grpc.aio.StreamUnaryCall[bytes, bytes]:
        multicallable = self.channel.stream_unary(f"/{self.service}/{name}")
        return multicallable(iter(requests), metadata=self._metadata(token, ()), timeout=5.0)


@pytest.fixture
def client(channel: grpc.aio.Channel) -> RawClient:
    return RawClient(channel)


@pytest.fixture
def nats_process(tmp_path: Path) -> Iterator[LocalNats]:
    """A private nats-server, not started, for a test that starts, stops or restarts it."""
    server = LocalNats(tmp_path / "store", log_file=tmp_path / "nats.log")
    try:
        yield server
    finally:
        server.stop()
