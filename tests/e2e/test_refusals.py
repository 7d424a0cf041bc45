"""Who is refused, by whom, with which code: Envoy checks the token (401, grpc-status 16), the services
check the role (PERMISSION_DENIED: grpc-status 7, HTTP 403 over REST)."""

from datetime import timedelta

import aiohttp
import grpc
import pytest
from edge_stack import EdgeStack
from grpc_web_client import GrpcWebClient

from devstack.tokens import AUDIENCE, ISSUER
from globalcredit.intake.v1 import application_pb2, intake_service_pb2
from globalcredit.scoring.v1 import scoring_service_pb2
from globalcredit.type.v1 import country_pb2
from svckit.auth import TokenIssuer

LIST = "/globalcredit.intake.v1.IntakeService/ListApplications"
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED.value[0]
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED.value[0]


def forged_token(edge: EdgeStack) -> str:
    """Right issuer, audience, claims and key id, but signed with a key that is not the stack's."""
    forger = TokenIssuer.generate(ISSUER, AUDIENCE, kid=edge.secrets.signing_key_id)
    return forger.mint("e2e-forger", ["admin"])


def expired_token(edge: EdgeStack) -> str:
    # Well past Envoy's default 60 s of clock skew.
    return edge.token("analyst", ttl=timedelta(minutes=-5))


BAD_TOKENS = {
    "missing": lambda edge: None,
    "bad-signature": forged_token,
    "expired": expired_token,
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_the_gateway_answers_401_over_rest_without_a_valid_token(
    http: aiohttp.ClientSession, edge: EdgeStack, kind: str
) -> None:
    token = BAD_TOKENS[kind](edge)
    headers = {} if token is None else {"authorization": f"Bearer {token}"}

    async with http.get(f"{edge.url}/v1/applications", headers=headers) as response:
        text = await response.text()

    assert response.status == 401, text
    assert response.headers["server"] == "envoy"  # refused at the edge, not by intake
    assert "www-authenticate" in response.headers


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_the_gateway_answers_unauthenticated_over_grpc_web_without_a_valid_token(
    grpc_web: GrpcWebClient, edge: EdgeStack, kind: str
) -> None:
    reply = await grpc_web.unary(
        LIST,
        intake_service_pb2.ListApplicationsRequest(page_size=1),
        intake_service_pb2.ListApplicationsResponse,
        token=BAD_TOKENS[kind](edge),
    )

    assert reply.grpc_status == UNAUTHENTICATED, reply
    assert reply.grpc_message.startswith("Jwt")  # Envoy's words, not intake's


async def test_a_partner_may_not_read_rule_sets_over_grpc_web(
    grpc_web: GrpcWebClient, edge: EdgeStack
) -> None:
    reply = await grpc_web.unary(
        "/globalcredit.scoring.v1.ScoringService/GetRuleSet",
        scoring_service_pb2.GetRuleSetRequest(country=country_pb2.COUNTRY_ES),
        scoring_service_pb2.GetRuleSetResponse,
        token=edge.token("partner"),
    )

    assert reply.grpc_status == PERMISSION_DENIED
    assert "grpc-status-details-bin" in {**reply.headers, **reply.trailers}


async def test_a_partner_may_not_read_rule_sets_over_rest(
    http: aiohttp.ClientSession, edge: EdgeStack
) -> None:
    headers = {"authorization": f"Bearer {edge.token('partner')}"}

    async with http.get(f"{edge.url}/v1/ruleSets/COUNTRY_ES", headers=headers) as response:
        status = await response.json()

    assert response.status == 403
    assert status["code"] == PERMISSION_DENIED
    assert status["details"][0]["reason"] == "ROLE_NOT_ALLOWED"


async def test_a_partner_may_not_change_a_status_over_grpc_web_or_rest(
    grpc_web: GrpcWebClient, http: aiohttp.ClientSession, edge: EdgeStack
) -> None:
    token = edge.token("partner")
    name = "applications/00000000-0000-7000-8000-000000000000"
    request = intake_service_pb2.UpdateApplicationStatusRequest(
        name=name, status=application_pb2.APPLICATION_STATUS_CANCELLED, reason="no", etag="1"
    )

    reply = await grpc_web.unary(
        "/globalcredit.intake.v1.IntakeService/UpdateApplicationStatus",
        request,
        intake_service_pb2.UpdateApplicationStatusResponse,
        token=token,
    )
    async with http.post(
        f"{edge.url}/v1/{name}:updateStatus",
        json={"status": "APPLICATION_STATUS_CANCELLED", "reason": "no", "etag": "1"},
        headers={"authorization": f"Bearer {token}"},
    ) as response:
        rest_status = response.status

    assert reply.grpc_status == PERMISSION_DENIED
    assert rest_status == 403
