"""The server pipeline, through a real grpc.aio server: errors, auth, request ids, metrics, logs, traces."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import grpc
import grpc.aio
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY

from svckit.auth import AccessPolicy, JwtVerifier, TokenIssuer
from svckit.errors import FieldViolation, error_details
from svckit.interceptors import ServerPipeline

SERVICE = "svckit.test.v1.TestService"
ERROR_DOMAIN = "test.svckit"


async def failure(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    return raised.value


def handled_count(method: str, code: str) -> float:
    labels = {"grpc_service": SERVICE, "grpc_method": method, "grpc_code": code}
    return REGISTRY.get_sample_value("grpc_server_handled_total", labels) or 0.0


async def test_service_error_reaches_the_client_as_error_info(client: Any, analyst_token: str) -> None:
    error = await failure(client.unary("Fail", b"not-found", token=analyst_token))

    details = error_details(error)
    assert details.code == grpc.StatusCode.NOT_FOUND
    assert details.message == "thing not found"
    assert (details.reason, details.domain) == ("THING_NOT_FOUND", ERROR_DOMAIN)
    assert details.metadata == {"name": "things/42"}
    assert details.violations == ()


async def test_field_violations_reach_the_client_as_bad_request(client: Any, analyst_token: str) -> None:
    error = await failure(client.unary("Fail", b"invalid", token=analyst_token))

    details = error_details(error)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.reason == "REQUEST_INVALID"
    assert details.violations == (
        FieldViolation("thing.name", "must not be empty", reason="REQUIRED"),
        FieldViolation("thing.size", "must be positive"),
    )


async def test_unexpected_exception_is_internal_and_reveals_nothing(
    client: Any, analyst_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="svckit.rpc"):
        error = await failure(client.unary("Fail", b"boom", token=analyst_token))
        # Logged before the status is sent, so it is already there.

    assert error.code() == grpc.StatusCode.INTERNAL
    assert error.details() == "internal error"
    assert error_details(error).reason == ""
    everything_sent = f"{error.details()} {error.trailing_metadata()} {error.debug_error_string()}"
    for secret in ("hunter2", "RuntimeError", "Traceback"):
        assert secret not in everything_sent
    (logged,) = [r for r in caplog.records if r.exc_info]
    assert logged.exc_info is not None
    assert "hunter2" in str(logged.exc_info[1])


async def test_a_handler_may_still_abort_itself(client: Any, analyst_token: str, eventually: Any) -> None:
    before = handled_count("Fail", "FAILED_PRECONDITION")

    error = await failure(client.unary("Fail", b"abort", token=analyst_token))

    assert (error.code(), error.details()) == (grpc.StatusCode.FAILED_PRECONDITION, "handler aborted")
    await eventually(lambda: handled_count("Fail", "FAILED_PRECONDITION") == before + 1)


async def test_missing_token_is_unauthenticated(client: Any) -> None:
    error = await failure(client.unary("Echo", b"x"))

    details = error_details(error)
    assert (details.code, details.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")


async def test_a_non_bearer_authorization_is_unauthenticated(client: Any) -> None:
    error = await failure(client.unary("Echo", b"x", metadata=(("authorization", "Basic dXNlcjpwdw=="),)))

    assert error_details(error).reason == "TOKEN_INVALID"


async def test_a_token_signed_by_another_key_is_unauthenticated(client: Any) -> None:
    impostor = TokenIssuer.generate("svckit-test", "svckit-test-audience", kid="test-key")

    error = await failure(client.unary("Echo", b"x", token=impostor.mint("mallory", ["admin"])))

    details = error_details(error)
    assert (details.code, details.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")
    assert "mallory" not in details.message


async def test_an_expired_token_is_unauthenticated(client: Any, issuer: TokenIssuer) -> None:
    token = issuer.mint("analyst-1", ["analyst"], ttl=timedelta(minutes=-5))

    error = await failure(client.unary("Echo", b"x", token=token))

    assert error_details(error).reason == "TOKEN_EXPIRED"
    assert token not in str(error)


async def test_a_token_for_another_audience_is_unauthenticated(client: Any, issuer: TokenIssuer) -> None:
    elsewhere = TokenIssuer.from_pem(
        issuer.private_pem(), issuer=issuer.issuer, audience="other", kid=issuer.kid
    )

    error = await failure(client.unary("Echo", b"x", token=elsewhere.mint("analyst-1", ["analyst"])))

    assert error_details(error).reason == "TOKEN_INVALID"


async def test_a_role_not_allowed_is_permission_denied(client: Any, analyst_token: str) -> None:
    error = await failure(client.unary("AdminOnly", b"x", token=analyst_token))

    details = error_details(error)
    assert (details.code, details.reason) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")


async def test_an_allowed_role_gets_through(client: Any, issuer: TokenIssuer) -> None:
    assert await client.unary("AdminOnly", b"ok", token=issuer.mint("root", ["admin"])) == b"ok"


async def test_a_method_missing_from_the_policy_is_denied_to_everyone(
    client: Any, issuer: TokenIssuer
) -> None:
    token = issuer.mint("root", ["admin", "analyst", "partner", "service"], partner_id="p-1")

    error = await failure(client.unary("Unlisted", b"x", token=token))

    details = error_details(error)
    assert (details.code, details.reason) == (grpc.StatusCode.PERMISSION_DENIED, "METHOD_NOT_ALLOWED")


async def test_health_needs_no_token(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)

    response = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=5)

    assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_method_declared_public_needs_no_token(client: Any) -> None:
    assert await client.unary("Public", b"hello") == b"hello"


async def test_the_handler_sees_the_callers_principal(client: Any, issuer: TokenIssuer) -> None:
    token = issuer.mint("broker-7", ["partner"], partner_id="p-7", permissions=["pii:read"])

    seen = json.loads(await client.unary("WhoAmI", token=token))

    assert seen["subject"] == "broker-7"
    assert seen["roles"] == ["partner"]
    assert seen["partner_id"] == "p-7"
    assert seen["permissions"] == ["pii:read"]


async def test_a_sane_request_id_is_echoed_and_bound(client: Any, analyst_token: str) -> None:
    call = client.unary("WhoAmI", token=analyst_token, metadata=(("x-request-id", "req-42.a_b"),))

    seen = json.loads(await call)

    assert seen["request_id"] == "req-42.a_b"
    assert dict(await call.trailing_metadata())["x-request-id"] == "req-42.a_b"


@pytest.mark.parametrize("unsafe", ["has space", "x" * 65, 'quote"d', "new\\nline"])
async def test_an_unsafe_request_id_is_replaced(client: Any, analyst_token: str, unsafe: str) -> None:
    call = client.unary("WhoAmI", token=analyst_token, metadata=(("x-request-id", unsafe),))

    seen = json.loads(await call)

    assert seen["request_id"] != unsafe
    assert len(seen["request_id"]) == 32
    assert dict(await call.trailing_metadata())["x-request-id"] == seen["request_id"]


@pytest.mark.parametrize("request_payload", [b"not-found", b"boom", b"abort"])
async def test_a_failed_call_still_returns_its_request_id(
    client: Any, analyst_token: str, request_payload: bytes
) -> None:
    call = client.unary(
        "Fail", request_payload, token=analyst_token, metadata=(("x-request-id", "trace-me"),)
    )

    error = await failure(call)

    assert dict(error.trailing_metadata())["x-request-id"] == "trace-me"


async def test_a_refused_call_still_returns_its_request_id(client: Any) -> None:
    error = await failure(client.unary("Echo", b"x", metadata=(("x-request-id", "trace-me"),)))

    assert dict(error.trailing_metadata())["x-request-id"] == "trace-me"


async def test_a_stream_returns_its_request_id_before_the_first_message(
    client: Any, analyst_token: str
) -> None:
    call = client.server_stream("Count", b"1", token=analyst_token, metadata=(("x-request-id", "watch-1"),))

    assert dict(await call.initial_metadata())["x-request-id"] == "watch-1"
    assert [m async for m in call] == [b"0"]


async def test_calls_are_counted_by_method_and_code(client: Any, analyst_token: str, eventually: Any) -> None:
    started = {"grpc_service": SERVICE, "grpc_method": "Echo"}
    started_before = REGISTRY.get_sample_value("grpc_server_started_total", started) or 0.0
    ok_before = handled_count("Echo", "OK")
    denied_before = handled_count("Echo", "UNAUTHENTICATED")
    histogram_before = REGISTRY.get_sample_value("grpc_server_handling_seconds_count", started) or 0.0

    await client.unary("Echo", b"1", token=analyst_token)
    await client.unary("Echo", b"2", token=analyst_token)
    await failure(client.unary("Echo", b"3"))

    await eventually(lambda: handled_count("Echo", "UNAUTHENTICATED") == denied_before + 1)
    assert REGISTRY.get_sample_value("grpc_server_started_total", started) == started_before + 3
    assert handled_count("Echo", "OK") == ok_before + 2
    assert handled_count("Echo", "UNAUTHENTICATED") == denied_before + 1
    assert REGISTRY.get_sample_value("grpc_server_handling_seconds_count", started) == histogram_before + 3


async def test_each_call_logs_one_line_without_the_payload(
    client: Any, analyst_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="svckit.rpc"):
        await client.unary("Echo", b"secret-payload-1234", token=analyst_token)

    lines = [r for r in caplog.records if r.name == "svckit.rpc"]
    assert len(lines) == 1
    fields = lines[0].__dict__
    assert fields["grpc_method"] == f"/{SERVICE}/Echo"
    assert fields["grpc_code"] == "OK"
    assert fields["subject"] == "analyst-1"
    assert fields["duration_ms"] >= 0
    assert "secret-payload" not in repr(fields)


async def test_successful_calls_log_at_debug_and_refusals_at_info(
    client: Any, analyst_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="svckit.rpc"):
        await client.unary("Echo", b"hello", token=analyst_token)
        with pytest.raises(grpc.aio.AioRpcError):
            await client.unary("Echo", b"hello")  # no token

    levels = {r.__dict__["grpc_code"]: r.levelno for r in caplog.records if r.name == "svckit.rpc"}
    assert levels == {"OK": logging.DEBUG, "UNAUTHENTICATED": logging.INFO}


async def test_server_streaming_is_authenticated_and_maps_errors(client: Any, analyst_token: str) -> None:
    assert [m async for m in client.server_stream("Count", b"2", token=analyst_token)] == [b"0", b"1"]

    received: list[bytes] = []

    async def consume(call: Any) -> None:
        async for message in call:
            received.append(message)

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await consume(client.server_stream("Count", b"3", token=analyst_token))
    assert received == [b"0", b"1", b"2"]
    assert error_details(raised.value).reason == "RAN_OUT"

    unauthenticated = client.server_stream("Count", b"2")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        _ = [m async for m in unauthenticated]
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_stream_the_client_abandons_is_counted_as_cancelled(
    client: Any, analyst_token: str, eventually: Any
) -> None:
    before = handled_count("Watch", "CANCELLED")
    call = client.server_stream("Watch", b"", token=analyst_token)

    assert await call.read() == b"first"
    call.cancel()

    await eventually(lambda: handled_count("Watch", "CANCELLED") == before + 1)
    assert handled_count("Watch", "INTERNAL") == 0


async def test_client_streaming_is_authenticated_too(client: Any, analyst_token: str) -> None:
    assert await client.client_stream("Sum", [b"1", b"2", b"3"], token=analyst_token) == b"6"

    error = await failure(client.client_stream("Sum", [b"1"]))

    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_the_server_span_continues_the_callers_trace(
    client: Any, analyst_token: str, span_exporter: InMemorySpanExporter
) -> None:
    trace_id, parent_id = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    span_exporter.clear()

    await client.unary(
        "Echo", b"x", token=analyst_token, metadata=(("traceparent", f"00-{trace_id}-{parent_id}-01"),)
    )

    (span,) = [s for s in span_exporter.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert span.name == f"/{SERVICE}/Echo"
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == parent_id
    assert span.attributes is not None
    assert span.attributes["rpc.grpc.status_code"] == 0


async def test_the_handler_sees_the_callers_deadline(client: Any, analyst_token: str, state: Any) -> None:
    await client.unary("Echo", b"x", token=analyst_token, timeout=2.0)
    await client.unary("Echo", b"x", token=analyst_token, timeout=None)

    with_deadline, without_deadline = state.seen_deadlines
    assert with_deadline is not None
    assert 0 < with_deadline <= 2.1  # grpc-timeout is rounded up on the wire
    assert without_deadline is None


async def test_each_method_is_wrapped_once(verifier: JwtVerifier) -> None:
    pipeline = ServerPipeline(policy=AccessPolicy({}), verifier=verifier, error_domain="d")
    handler = grpc.unary_unary_rpc_method_handler(lambda request, context: request)

    class Details(grpc.HandlerCallDetails):
        method = f"/{SERVICE}/Echo"
        invocation_metadata = ()

    async def continuation(details: grpc.HandlerCallDetails) -> Any:
        return handler

    first = await pipeline.intercept_service(continuation, Details())
    second = await pipeline.intercept_service(continuation, Details())

    assert first is second
    assert first is not handler
