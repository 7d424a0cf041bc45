"""The one server interceptor every service runs: request id, tracing, authentication, authorisation,
metrics, a log line per RPC, and `ServiceError` → rich status (anything else → INTERNAL "internal error").

Each method's handler is wrapped once and cached, so a call pays only for the work itself. The request id
goes back as `x-request-id` in the trailing metadata of unary calls and the initial metadata of streams.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeAlias

import grpc
import grpc.aio
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind

from svckit import telemetry
from svckit.auth.policy import AccessPolicy, check_roles
from svckit.auth.principal import Principal, bind_principal
from svckit.auth.tokens import JwtVerifier, bearer_token
from svckit.context import REQUEST_ID_KEY, accept_request_id, bind_request
from svckit.errors import ServiceError, to_rpc_status
from svckit.metrics import MethodMetrics

log = logging.getLogger("svckit.rpc")

INTERNAL_ERROR_MESSAGE = "internal error"
AUTHORIZATION_KEY = "authorization"

# Strings: grpc's runtime classes are not subscriptable, only its stubs are.
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Continuation: TypeAlias = "Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]]"


def _metadata_dict(metadata: Iterable[tuple[str, str | bytes]] | None) -> dict[str, str]:
    # Binary (-bin) values are never needed here; keys arrive lower-cased from gRPC.
    return {key: value for key, value in metadata or () if isinstance(value, str)}


def _status_code(context: grpc.aio.ServicerContext[Any, Any], default: grpc.StatusCode) -> grpc.StatusCode:
    # None until a handler sets a code or aborts (the stubs say it is never None).
    code: grpc.StatusCode | None = context.code()
    return default if code is None else code


@dataclass
class _CallOutcome:
    code: grpc.StatusCode = grpc.StatusCode.OK
    principal: Principal | None = None
    request_id: str = ""
    recorded: bool = False


@dataclass(frozen=True)
class _Abort:
    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str | bytes], ...]


class _Method:
    """Everything about one method that does not change between calls, and the per-call steps."""

    def __init__(self, pipeline: ServerPipeline, method: str) -> None:
        self.pipeline = pipeline
        self.method = method
        self.public = pipeline.policy.is_public(method)
        self.allowed_roles = pipeline.policy.allowed_roles(method)
        self.metrics = MethodMetrics.for_method(method)
        service, _, name = method.lstrip("/").partition("/")
        self.span_attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}

    def start_span(self, metadata: dict[str, str]) -> Span:
        return self.pipeline.tracer.start_span(
            self.method,
            context=propagate.extract(metadata),
            kind=SpanKind.SERVER,
            attributes=self.span_attributes,
            record_exception=False,
            set_status_on_exception=False,
        )

    async def begin(
        self,
        context: grpc.aio.ServicerContext[Any, Any],
        metadata: dict[str, str],
        outcome: _CallOutcome,
        *,
        streaming: bool,
    ) -> None:
        """Bind the request id and deadline, return the id to the caller, authenticate and authorise."""
        request_id = outcome.request_id = accept_request_id(metadata.get(REQUEST_ID_KEY))
        remaining = context.time_remaining()
        bind_request(request_id, None if remaining is None else time.monotonic() + remaining)
        if streaming:
            # A watcher wants the id before the first event; a stream pays this extra write once.
            await context.send_initial_metadata(((REQUEST_ID_KEY, request_id),))
        else:
            # Sent with the status at no cost; sending initial metadata early is a separate write that
            # cut a trivial method's throughput by 40% in measurements.
            context.set_trailing_metadata(((REQUEST_ID_KEY, request_id),))
        if self.public:
            return
        principal = self.pipeline.verifier.verify(bearer_token(metadata.get(AUTHORIZATION_KEY)))
        check_roles(self.method, self.allowed_roles, principal)
        bind_principal(principal)
        outcome.principal = principal

    def failure(
        self, error: BaseException, context: grpc.aio.ServicerContext[Any, Any], outcome: _CallOutcome
    ) -> _Abort | None:
        """Record the failure's code; return the status to abort with, or None to let `error` propagate."""
        request_id = ((REQUEST_ID_KEY, outcome.request_id),) if outcome.request_id else ()
        if isinstance(error, ServiceError):
            outcome.code = error.code
            status = to_rpc_status(error, self.pipeline.error_domain)
            return _Abort(status.code, status.details, (*status.trailing_metadata, *request_id))
        if isinstance(error, grpc.aio.AbortError):
            # The handler called context.abort() itself: the status is already on its way.
            outcome.code = _status_code(context, grpc.StatusCode.UNKNOWN)
            return None
        if isinstance(error, asyncio.CancelledError | GeneratorExit):
            # GeneratorExit: a stream whose client went away is closed at the `yield` it was parked on.
            remaining = context.time_remaining()
            expired = remaining is not None and remaining <= 0
            outcome.code = grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED
            return None
        outcome.code = grpc.StatusCode.INTERNAL
        if not isinstance(error, Exception):
            return None
        # The traceback goes to the log only; the client learns nothing of our internals.
        log.error("unhandled exception in %s", self.method, exc_info=error)
        return _Abort(grpc.StatusCode.INTERNAL, INTERNAL_ERROR_MESSAGE, request_id)

    def record(self, outcome: _CallOutcome, started: float, span: Span) -> None:
        """Metrics, span status and the log line, once per call (before the status goes out if we can)."""
        if outcome.recorded:
            return
        outcome.recorded = True
        seconds = time.perf_counter() - started
        self.metrics.handled(outcome.code, seconds)
        telemetry.record_grpc_code(span, outcome.code)
        level = _log_level(outcome.code)
        if log.isEnabledFor(level):
            log.log(
                level,
                "rpc finished",
                extra={
                    "grpc_method": self.method,
                    "grpc_code": outcome.code.name,
                    "duration_ms": round(seconds * 1000, 3),
                    "subject": outcome.principal.subject if outcome.principal else "",
                },
            )

    async def fail(
        self,
        error: BaseException,
        context: grpc.aio.ServicerContext[Any, Any],
        outcome: _CallOutcome,
        started: float,
        span: Span,
    ) -> NoReturn:
        abort = self.failure(error, context, outcome)
        self.record(outcome, started, span)
        if abort is None:
            raise error
        await context.abort(abort.code, abort.details, abort.trailing_metadata)

    def wrap_unary_response(self, behavior: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        async def unary_response(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            started = time.perf_counter()
            self.metrics.started.inc()
            outcome = _CallOutcome()
            metadata = _metadata_dict(context.invocation_metadata())
            span = self.start_span(metadata)
            token = otel_context.attach(trace.set_span_in_context(span))
            try:
                await self.begin(context, metadata, outcome, streaming=False)
                result = behavior(request, context)
                if inspect.isawaitable(result):
                    result = await result
                outcome.code = _status_code(context, grpc.StatusCode.OK)
                return result
            except BaseException as error:
                await self.fail(error, context, outcome, started, span)
            finally:
                self.record(outcome, started, span)
                span.end()
                otel_context.detach(token)

        return unary_response

    def wrap_streaming_response(self, behavior: Callable[..., Any]) -> Callable[..., AsyncIterator[Any]]:
        async def streaming_response(
            request: Any, context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            started = time.perf_counter()
            self.metrics.started.inc()
            outcome = _CallOutcome()
            metadata = _metadata_dict(context.invocation_metadata())
            span = self.start_span(metadata)
            # No detach: a generator may be finalised from another task, where a detach would fail; the
            # RPC's own task (and its context) ends with the call.
            otel_context.attach(trace.set_span_in_context(span))
            try:
                await self.begin(context, metadata, outcome, streaming=True)
                result = behavior(request, context)
                if hasattr(result, "__aiter__"):
                    async for response in result:
                        yield response
                elif inspect.isawaitable(result):
                    # A handler that writes with context.write() and returns None.
                    await result
                outcome.code = _status_code(context, grpc.StatusCode.OK)
            except BaseException as error:
                await self.fail(error, context, outcome, started, span)
            finally:
                self.record(outcome, started, span)
                span.end()

        return streaming_response

    def wrap(self, handler: Handler) -> Handler:
        if handler.response_streaming:
            factory = (
                grpc.stream_stream_rpc_method_handler
                if handler.request_streaming
                else grpc.unary_stream_rpc_method_handler
            )
            behavior = handler.stream_stream if handler.request_streaming else handler.unary_stream
            wrapped: Callable[..., Any] = self.wrap_streaming_response(behavior)  # type: ignore[arg-type]
        else:
            factory = (
                grpc.stream_unary_rpc_method_handler
                if handler.request_streaming
                else grpc.unary_unary_rpc_method_handler
            )
            behavior = handler.stream_unary if handler.request_streaming else handler.unary_unary
            wrapped = self.wrap_unary_response(behavior)  # type: ignore[arg-type]
        return factory(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


# Server faults are errors; a caller's mistakes and refusals are worth a line, not an alarm.
_SERVER_FAULTS = frozenset(
    {
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DATA_LOSS,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)


def _log_level(code: grpc.StatusCode) -> int:
    """A line per successful call would cost ~5% of a service's CPU at a thousand calls a second and drown
    the log, so those go at DEBUG: metrics count them and traces follow them. Failures are logged."""
    if code is grpc.StatusCode.OK:
        return logging.DEBUG
    if code in _SERVER_FAULTS:
        return logging.ERROR
    if code in (
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    ):
        return logging.WARNING
    return logging.INFO


class ServerPipeline(grpc.aio.ServerInterceptor):
    """The svckit server interceptor. Every kind of method is wrapped (client-streaming too), because a
    method that skipped it would skip authentication."""

    def __init__(
        self,
        *,
        policy: AccessPolicy,
        verifier: JwtVerifier,
        error_domain: str,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self.policy = policy
        self.verifier = verifier
        self.error_domain = error_domain
        self.tracer = telemetry.tracer(tracer_provider)
        self._wrapped: dict[str, tuple[Handler, Handler]] = {}

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped = _Method(self, method).wrap(handler)
        self._wrapped[method] = (handler, wrapped)
        return wrapped
