"""CORS for the console: preflights from its origins are answered by the gateway itself (no token needed),
with the headers grpc-web needs; other origins get no allow header."""

import aiohttp
from edge_stack import EdgeStack
from grpc_web_client import GrpcWebClient

from devstack.services import CONSOLE_PORT
from globalcredit.intake.v1 import intake_service_pb2

METHOD = "/globalcredit.intake.v1.IntakeService/ListApplications"
REQUESTED_HEADERS = "authorization,content-type,x-grpc-web,x-user-agent,grpc-timeout,traceparent,x-request-id"


def console_origin(edge: EdgeStack) -> str:
    return f"http://localhost:{edge.config.port(CONSOLE_PORT)}"


def header_set(value: str) -> set[str]:
    return {item.strip().lower() for item in value.split(",")}


async def test_a_preflight_from_the_console_is_allowed_with_the_grpc_web_headers(
    http: aiohttp.ClientSession, edge: EdgeStack
) -> None:
    headers = {
        "origin": console_origin(edge),
        "access-control-request-method": "POST",
        "access-control-request-headers": REQUESTED_HEADERS,
    }

    async with http.options(f"{edge.url}{METHOD}", headers=headers) as response:
        allowed = response.headers

    assert response.status == 200
    assert allowed["access-control-allow-origin"] == console_origin(edge)
    assert "post" in header_set(allowed["access-control-allow-methods"])
    assert header_set(REQUESTED_HEADERS) <= header_set(allowed["access-control-allow-headers"])
    assert {"grpc-status", "grpc-message", "grpc-status-details-bin"} <= header_set(
        allowed["access-control-expose-headers"]
    )


async def test_a_preflight_from_another_origin_gets_no_allow_header(
    http: aiohttp.ClientSession, edge: EdgeStack
) -> None:
    headers = {"origin": "https://evil.example", "access-control-request-method": "POST"}

    async with http.options(f"{edge.url}{METHOD}", headers=headers) as response:
        assert "access-control-allow-origin" not in response.headers


async def test_a_grpc_web_answer_to_the_console_exposes_the_grpc_status(
    grpc_web: GrpcWebClient, edge: EdgeStack
) -> None:
    reply = await grpc_web.unary(
        METHOD,
        intake_service_pb2.ListApplicationsRequest(page_size=1),
        intake_service_pb2.ListApplicationsResponse,
        token=edge.token("analyst"),
        headers={"origin": console_origin(edge)},
    )

    assert reply.grpc_status == 0
    assert reply.headers["access-control-allow-origin"] == console_origin(edge)
    assert "grpc-status" in header_set(reply.headers["access-control-expose-headers"])
