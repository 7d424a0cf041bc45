"""Body limits (64 KiB for API calls, 1 MiB for bank webhooks: 413 beyond) and the per-client rate limit
(429 with Retry-After), enforced by the gateway."""

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import grpc
import pytest
from edge_stack import EdgeStack
from grpc_web_client import GrpcWebClient

from devstack.envoy import API_BODY_LIMIT, WEBHOOK_BODY_LIMIT, RateLimit, envoy_argv, write_config
from devstack.stack import http_ok
from globalcredit.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from samples.applications import create_request
from svckit.local import ManagedProcess, free_port
from svckit.testing.polling import eventually

KIB = 1024
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE.value[0]


def oversized_create_body(size: int) -> bytes:
    """A CreateApplication body of about `size` bytes of otherwise well-formed JSON."""
    body = {"requestId": "x", "application": {"applicant": {"fullName": "x" * size}}}
    return json.dumps(body).encode()


async def test_an_api_body_over_64_kib_is_refused_with_413(
    http: aiohttp.ClientSession, edge: EdgeStack
) -> None:
    headers = {"authorization": f"Bearer {edge.token('analyst')}", "content-type": "application/json"}
    body = oversized_create_body(API_BODY_LIMIT + KIB)

    async with http.post(f"{edge.url}/v1/applications", data=body, headers=headers) as response:
        assert response.status == 413


async def test_a_grpc_web_body_over_64_kib_is_refused_with_413(
    grpc_web: GrpcWebClient, edge: EdgeStack
) -> None:
    request = create_request("ES")
    request.application.applicant.full_name = "x" * (API_BODY_LIMIT + KIB)

    reply = await grpc_web.unary(
        "/globalcredit.intake.v1.IntakeService/CreateApplication",
        request,
        intake_service_pb2.CreateApplicationResponse,
        token=edge.token("analyst"),
    )

    # The HTTP status stays 413; grpc_web adds a grpc-status for grpc-web libraries (HTTP 413 has no gRPC
    # code of its own, so UNKNOWN).
    assert reply.http_status == 413
    assert (reply.grpc_status, reply.grpc_message) == (2, "Payload Too Large")
    assert reply.messages == []


async def test_a_webhook_over_1_mib_is_refused_with_413(http: aiohttp.ClientSession, edge: EdgeStack) -> None:
    body = b"{" + b" " * WEBHOOK_BODY_LIMIT + b"}"

    async with http.post(f"{edge.url}/webhooks/bank-confirmations", data=body) as response:
        assert response.status == 413


async def test_a_webhook_of_100_kib_passes_the_size_limit_and_reaches_the_shim(
    http: aiohttp.ClientSession, edge: EdgeStack
) -> None:
    body = b"{" + b" " * (100 * KIB) + b"}"
    headers = {"webhook-id": "msg_e2e", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"}

    async with http.post(f"{edge.url}/webhooks/bank-confirmations", data=body, headers=headers) as response:
        answer = await response.json()

    assert response.status == 401  # the shim's own refusal: a bad signature, not a size
    assert answer["error"]["reason"] == "WEBHOOK_SIGNATURE_MISMATCH"


# --- the rate limit, on an Envoy of its own with a tiny limit (the session's gateway stays generous) ----


@pytest.fixture
def strict_gateway(edge: EdgeStack, tmp_path: Path) -> Iterator[str]:
    """A second Envoy in front of the same services, allowing each client 3 requests, then 1 a second."""
    settings = dataclasses.replace(
        edge.gateway,
        port=free_port(),
        admin_port=free_port(),
        rate_limit=RateLimit(per_second=1, burst=3, shared_factor=1),
    )
    config = write_config(settings, tmp_path / "envoy.yaml")
    envoy = ManagedProcess(
        "envoy-strict", envoy_argv(config, base_id=settings.port), log_file=tmp_path / "envoy.log"
    )
    try:
        envoy.start()
        ready = f"http://127.0.0.1:{settings.admin_port}/ready"
        envoy.wait_until(lambda: http_ok(ready), timeout=30, what=f"200 from {ready}")
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        envoy.stop()


async def test_a_burst_beyond_the_rate_limit_gets_429_with_retry_after(
    http: aiohttp.ClientSession, edge: EdgeStack, strict_gateway: str
) -> None:
    greedy = {"authorization": f"Bearer {edge.token('analyst')}"}
    polite = {"authorization": f"Bearer {edge.token('analyst')}"}
    url = f"{strict_gateway}/v1/applications?pageSize=1"

    async def status(headers: dict[str, str]) -> tuple[int, str | None]:
        async with http.get(url, headers=headers) as response:
            return response.status, response.headers.get("retry-after")

    burst = await asyncio.gather(*(status(greedy) for _ in range(6)))
    other_client = await status(polite)

    codes = sorted(code for code, _ in burst)
    assert codes.count(200) <= 4  # the burst of 3, and 1 more if the bucket refilled meanwhile
    assert 429 in codes
    assert {retry_after for code, retry_after in burst if code == 429} == {"1"}
    assert other_client == (200, None)  # per client: another token has its own bucket
    # A second later the bucket has a token again.
    await eventually(lambda: _ok(http, url, greedy), within=5, what="the greedy client served again")


async def test_a_rate_limited_grpc_call_gets_resource_exhausted_with_retry_after(
    edge: EdgeStack, strict_gateway: str
) -> None:
    metadata = (("authorization", f"Bearer {edge.token('analyst')}"),)
    request = intake_service_pb2.ListApplicationsRequest(page_size=1)
    refusals = []
    async with grpc.aio.insecure_channel(strict_gateway.removeprefix("http://")) as channel:
        stub = intake_service_pb2_grpc.IntakeServiceStub(channel)
        for _ in range(5):
            call = stub.ListApplications(request, metadata=metadata, timeout=10)
            try:
                await call
            except grpc.aio.AioRpcError as error:
                # A trailers-only answer: grpc-python hands its headers over as trailing metadata.
                headers = {
                    **dict(await call.initial_metadata() or ()),
                    **dict(error.trailing_metadata() or ()),
                }
                refusals.append((error.code(), headers))

    assert refusals
    assert {code for code, _ in refusals} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert all(headers.get("retry-after") == "1" for _, headers in refusals)


async def test_a_rate_limited_grpc_web_call_gets_unavailable_with_retry_after(
    http: aiohttp.ClientSession, edge: EdgeStack, strict_gateway: str
) -> None:
    client = GrpcWebClient(http, strict_gateway)
    token = edge.token("analyst")
    request = intake_service_pb2.ListApplicationsRequest(page_size=1)

    replies = [
        await client.unary(
            "/globalcredit.intake.v1.IntakeService/ListApplications",
            request,
            intake_service_pb2.ListApplicationsResponse,
            token=token,
        )
        for _ in range(5)
    ]

    # Envoy decides how to phrase a local reply before grpc_web has turned the request into gRPC: the
    # refusal leaves as HTTP 429, which grpc_web translates to UNAVAILABLE (retryable, like the 429).
    limited = [reply for reply in replies if reply.grpc_status == UNAVAILABLE]
    assert limited, [(reply.http_status, reply.grpc_status) for reply in replies]
    assert all(reply.headers["retry-after"] == "1" for reply in limited)
    assert all(reply.grpc_message == "local_rate_limited" for reply in limited)


async def _ok(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> bool:
    async with http.get(url, headers=headers) as response:
        return response.status == 200
