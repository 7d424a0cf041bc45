"""Outgoing gRPC calls: a channel with keepalive, tracing, the caller's token, request id and a deadline.

Every outgoing call gets a deadline (SPEC §10): the caller's own, else the incoming RPC's remaining time,
else a default.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
from opentelemetry import propagate, trace

from svckit.context import REQUEST_ID_KEY, current_request_id, time_remaining
from svckit.settings import CallerSettings
from svckit.telemetry import grpc_client_interceptors

TokenProvider = Callable[[], str]


def token_provider(settings: CallerSettings) -> TokenProvider:
    """The caller's token: the file's content, re-read when the file changes, or the fixed token."""
    if settings.service_token_file is None:
        token = settings.service_token or ""
        return lambda: token
    return _FileToken(settings.service_token_file)


class _FileToken:
    """Reads a mounted token file again only when its modification time changes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp: int | None = None
        self._token = ""

    def __call__(self) -> str:
        stamp = self._path.stat().st_mtime_ns
        if stamp != self._stamp:
            self._token = self._path.read_text(encoding="utf-8").strip()
            self._stamp = stamp
        return self._token


DEFAULT_TIMEOUT_SECONDS = 5.0

CHANNEL_OPTIONS: tuple[tuple[str, int], ...] = (
    # Find a dead connection within ~40 s rather than when the next call times out; the server accepts
    # pings this often (svckit.server.SERVER_OPTIONS).
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    # Retry transparently only what never reached the server (gRPC's own rule); no application retries.
    ("grpc.enable_retries", 1),
)


class _OutgoingCall:
    """Adds `authorization`, `x-request-id`, trace context (when absent) and, on unary calls, a deadline.

    grpc.aio files an interceptor object under the first call type it implements, so each call type has
    its own small subclass below; one object implementing all four would only ever see unary calls.
    """

    def __init__(self, *, token_provider: TokenProvider | None, default_timeout: float) -> None:
        self._token_provider = token_provider
        self._default_timeout = default_timeout

    def _details(self, details: grpc.aio.ClientCallDetails, *, unary: bool) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        if self._token_provider is not None and metadata.get("authorization") is None:
            metadata["authorization"] = f"Bearer {self._token_provider()}"
        request_id = current_request_id()
        if request_id and metadata.get(REQUEST_ID_KEY) is None:
            metadata[REQUEST_ID_KEY] = request_id
        if metadata.get("traceparent") is None:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            for key, value in carrier.items():
                metadata[key] = value
        timeout = details.timeout
        if timeout is None and unary:
            # A request-response call always gets a deadline; a stream (a watch) lives as long as its caller
            # wants, unless the caller sets one.
            remaining = time_remaining()
            timeout = self._default_timeout if remaining is None else min(remaining, self._default_timeout)
        return grpc.aio.ClientCallDetails(
            details.method, timeout, metadata, details.credentials, details.wait_for_ready
        )


class _UnaryUnary(_OutgoingCall, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await continuation(self._details(client_call_details, unary=True), request)


class _UnaryStream(_OutgoingCall, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        return await continuation(self._details(client_call_details, unary=False), request)


class _StreamUnary(_OutgoingCall, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request_iterator: AsyncIterable[Any] | Iterable[Any],
    ) -> Any:
        return await continuation(self._details(client_call_details, unary=True), request_iterator)


class _StreamStream(_OutgoingCall, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request_iterator: AsyncIterable[Any] | Iterable[Any],
    ) -> Any:
        return await continuation(self._details(client_call_details, unary=False), request_iterator)


def outgoing_call_interceptors(
    *, token_provider: TokenProvider | None = None, default_timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> list[grpc.aio.ClientInterceptor]:
    """One interceptor per call type, all doing the same: token, request id, trace context, deadline."""
    return [
        kind(token_provider=token_provider, default_timeout=default_timeout)
        for kind in (_UnaryUnary, _UnaryStream, _StreamUnary, _StreamStream)
    ]


def client_channel(
    target: str,
    *,
    token_provider: TokenProvider | None = None,
    default_timeout: float = DEFAULT_TIMEOUT_SECONDS,
    interceptors: Sequence[grpc.aio.ClientInterceptor] = (),
    credentials: grpc.ChannelCredentials | None = None,
    tracing: bool = True,
    tracer_provider: trace.TracerProvider | None = None,
) -> grpc.aio.Channel:
    """A channel to `target` whose calls carry a CLIENT span, the token, request id and a deadline.

    `default_timeout` applies to calls made without `timeout=`; long server streams (watches) should
    pass their own (or `timeout=None` through a channel with a larger default).
    """
    chain: list[grpc.aio.ClientInterceptor] = []
    if tracing:
        # Outermost, so the CLIENT span exists (and its context is injected) before our interceptor runs.
        chain.extend(grpc_client_interceptors(tracer_provider))
    chain.extend(outgoing_call_interceptors(token_provider=token_provider, default_timeout=default_timeout))
    chain.extend(interceptors)
    if credentials is None:
        return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS, interceptors=chain)
    return grpc.aio.secure_channel(target, credentials, options=CHANNEL_OPTIONS, interceptors=chain)
