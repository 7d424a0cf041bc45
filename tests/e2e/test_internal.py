"""Only the public methods are reachable through the gateway: internal ones answer UNIMPLEMENTED (gRPC,
grpc-web) or 404 (plain HTTP), even to a valid `service` token."""

import aiohttp
import grpc
import pytest
from edge_stack import EdgeStack
from grpc_web_client import GrpcWebClient, frame

from globalcredit.intake.v1 import intake_service_pb2

UNIMPLEMENTED = grpc.StatusCode.UNIMPLEMENTED.value[0]

INTERNAL_METHODS = (
    "/globalcredit.intake.v1.IntakeService/StartValidation",
    "/globalcredit.intake.v1.IntakeService/RecordDecision",
    "/globalcredit.intake.v1.IntakeService/RecordBankConfirmation",
    "/globalcredit.intake.v1.IntakeService/RecordScoringFailure",
    "/globalcredit.bureau.v1.BureauService/GetCreditReport",
    "/globalcredit.bureau.v1.BureauService/ListCircuits",
    "/globalcredit.bureau.v1.BureauService/InjectFault",
    "/globalcredit.scoring.v1.ScoringService/ListDeadLetters",
    "/globalcredit.scoring.v1.ScoringService/ReplayDeadLetter",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.health.v1.Health/Check",
)


@pytest.mark.parametrize("method", INTERNAL_METHODS)
async def test_an_internal_method_is_unimplemented_over_grpc_web_even_for_a_service_token(
    grpc_web: GrpcWebClient, edge: EdgeStack, method: str
) -> None:
    # The request's type does not matter: nothing behind the gateway ever reads it.
    reply = await grpc_web.unary(
        method,
        intake_service_pb2.GetApplicationRequest(),
        intake_service_pb2.GetApplicationResponse,
        token=edge.token("service"),
    )

    assert reply.grpc_status == UNIMPLEMENTED, reply


@pytest.mark.parametrize("method", INTERNAL_METHODS)
async def test_an_internal_method_is_unimplemented_over_grpc_even_for_a_service_token(
    edge: EdgeStack, method: str
) -> None:
    async with grpc.aio.insecure_channel(edge.address) as channel:
        call = channel.unary_unary(method, request_serializer=bytes, response_deserializer=bytes)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call(b"", metadata=(("authorization", f"Bearer {edge.token('service')}"),), timeout=10)

    assert refused.value.code() is grpc.StatusCode.UNIMPLEMENTED


async def test_an_internal_method_is_404_to_plain_http(http: aiohttp.ClientSession, edge: EdgeStack) -> None:
    headers = {"authorization": f"Bearer {edge.token('service')}", "content-type": "application/json"}
    url = f"{edge.url}/globalcredit.bureau.v1.BureauService/InjectFault"

    async with http.post(url, data=frame(b""), headers=headers) as response:
        assert response.status == 404
