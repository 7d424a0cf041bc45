"""grpc-web through the gateway, framed by hand as a browser's library frames it; and plain gRPC on the
same listener."""

import json
import re
import uuid

import grpc
from edge_stack import EdgeStack
from grpc_web_client import GrpcWebClient

from globalcredit.intake.v1 import application_pb2, intake_service_pb2, intake_service_pb2_grpc
from samples.applications import create_request
from svckit.testing.polling import eventually

INTAKE = "/globalcredit.intake.v1.IntakeService"


async def test_grpc_web_creates_an_application_and_reads_it_back(
    grpc_web: GrpcWebClient, edge: EdgeStack
) -> None:
    token = edge.token("analyst")
    request = create_request("ES")

    created = await grpc_web.unary(
        f"{INTAKE}/CreateApplication", request, intake_service_pb2.CreateApplicationResponse, token=token
    )
    name = created.message.application.name
    read = await grpc_web.unary(
        f"{INTAKE}/GetApplication",
        intake_service_pb2.GetApplicationRequest(name=name),
        intake_service_pb2.GetApplicationResponse,
        token=token,
    )

    assert created.http_status == 200
    assert created.headers["Content-Type"].startswith("application/grpc-web")
    assert created.trailers["grpc-status"] == "0"
    assert re.fullmatch(r"applications/[0-9a-f-]{36}", name)
    assert created.message.application.status == application_pb2.APPLICATION_STATUS_PENDING
    application = read.message.application  # scoring may have picked it up by now
    assert application.name == name
    assert application.create_time == created.message.application.create_time
    assert application.requested_amount.amount == "12000.00"
    # Masked: the document is never sent in clear to a caller without pii:read.
    document = request.application.applicant.identity_document
    assert application.applicant.identity_document.endswith(document[-4:])
    assert application.applicant.identity_document != document


async def test_grpc_web_text_carries_the_same_calls_in_base64(
    grpc_web: GrpcWebClient, edge: EdgeStack
) -> None:
    token = edge.token("analyst")
    created = await grpc_web.unary(
        f"{INTAKE}/CreateApplication",
        create_request("PT"),
        intake_service_pb2.CreateApplicationResponse,
        token=token,
        text=True,
    )
    name = created.message.application.name

    listed = await grpc_web.unary(
        f"{INTAKE}/GetApplication",
        intake_service_pb2.GetApplicationRequest(name=name),
        intake_service_pb2.GetApplicationResponse,
        token=token,
        text=True,
    )

    assert created.headers["Content-Type"].startswith("application/grpc-web-text")
    assert listed.message.application.name == name


async def test_the_request_id_and_trace_context_of_the_client_reach_the_service(
    grpc_web: GrpcWebClient, edge: EdgeStack
) -> None:
    request_id = f"e2e-{uuid.uuid4().hex}"
    trace_id = uuid.uuid4().hex
    traceparent = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"

    # A call that fails: intake logs failures (successes only at DEBUG), with their trace and request ids.
    reply = await grpc_web.unary(
        f"{INTAKE}/GetApplication",
        intake_service_pb2.GetApplicationRequest(name=f"applications/{uuid.uuid4()}"),
        intake_service_pb2.GetApplicationResponse,
        token=edge.token("analyst"),
        headers={"x-request-id": request_id, "traceparent": traceparent},
    )

    assert reply.grpc_status == grpc.StatusCode.NOT_FOUND.value[0]
    assert reply.headers["x-request-id"] == request_id  # Envoy kept the client's id
    # Intake logged the call under that request id, and under the trace id of the client's traceparent:
    # Envoy replaced neither.
    line = await eventually(
        lambda: _log_line(edge, request_id), within=5, what="intake's log line for the call"
    )
    assert json.loads(str(line))["trace_id"] == trace_id


async def _log_line(edge: EdgeStack, request_id: str) -> str | None:
    return next((line for line in edge.log("intake").splitlines() if request_id in line), None)


async def test_plain_grpc_reaches_public_methods_on_the_same_listener(edge: EdgeStack) -> None:
    async with grpc.aio.insecure_channel(edge.address) as channel:
        stub = intake_service_pb2_grpc.IntakeServiceStub(channel)
        created = await stub.CreateApplication(
            create_request("IT"), metadata=(("authorization", f"Bearer {edge.token('analyst')}"),), timeout=10
        )

    assert created.application.status == application_pb2.APPLICATION_STATUS_PENDING
