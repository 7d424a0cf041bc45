"""Every call to intake is authenticated and authorised by the service itself, not only at the edge."""

from collections.abc import Awaitable
from datetime import timedelta

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from globalcredit.intake.v1 import intake_service_pb2
from samples.applications import create_request
from svckit.auth import TokenIssuer
from svckit.errors import ErrorDetails, error_details


async def refusal(call: Awaitable[object]) -> ErrorDetails:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return error_details(caught.value)


async def test_a_call_without_a_token_is_unauthenticated(shared_intake):
    details = await refusal(shared_intake.anonymous().CreateApplication(create_request("ES")))
    assert (details.code, details.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")


async def test_an_expired_token_is_unauthenticated(shared_intake):
    token = shared_intake.issuer.mint("analyst-1", ["analyst"], ttl=timedelta(minutes=-5))
    details = await refusal(
        shared_intake.client_with_token(token).ListApplications(intake_service_pb2.ListApplicationsRequest())
    )
    assert (details.code, details.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_EXPIRED")


async def test_a_token_signed_by_another_key_is_unauthenticated(shared_intake):
    impostor = TokenIssuer.generate(shared_intake.issuer.issuer, shared_intake.issuer.audience, kid="test")
    token = impostor.mint("analyst-1", ["analyst"])
    details = await refusal(
        shared_intake.client_with_token(token).ListApplications(intake_service_pb2.ListApplicationsRequest())
    )
    assert (details.code, details.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_INVALID")


async def test_a_role_not_allowed_for_the_method_is_denied(shared_intake):
    details = await refusal(
        shared_intake.client("analyst").StartValidation(
            intake_service_pb2.StartValidationRequest(name="applications/x", job_id="j")
        )
    )
    assert (details.code, details.reason) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")


async def test_a_service_may_not_create_applications(shared_intake):
    details = await refusal(shared_intake.client("service").CreateApplication(create_request("ES")))
    assert details.code == grpc.StatusCode.PERMISSION_DENIED


async def test_health_needs_no_token(shared_intake):
    channel = grpc.aio.insecure_channel(shared_intake.address)
    try:
        response = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="globalcredit.intake.v1.IntakeService")
        )
    finally:
        await channel.close()
    assert response.status == health_pb2.HealthCheckResponse.SERVING
