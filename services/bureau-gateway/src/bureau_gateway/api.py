"""BureauService over gRPC: one short method per RPC (proto in, use case, proto out), the access policy,
and the translation of request and domain errors into `google.rpc.Status`."""

from __future__ import annotations

import logging
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from bureau_gateway import convert
from bureau_gateway.circuit import CircuitBoard
from bureau_gateway.convert import RequestInvalid, Violation
from bureau_gateway.faults import FaultBoard
from bureau_gateway.gateway import BureauGateway, ConsentMissing
from globalcredit.bureau.v1 import bureau_service_pb2, bureau_service_pb2_grpc
from svckit import errors
from svckit.auth import AccessPolicy, current_principal
from svckit.context import time_remaining

log = logging.getLogger(__name__)

ERROR_DOMAIN = "bureau.globalcredit.com"
SERVICE_NAME = "globalcredit.bureau.v1.BureauService"
Context = grpc.aio.ServicerContext[Any, Any]

ACCESS_POLICY = AccessPolicy.for_service(
    SERVICE_NAME,
    {
        "GetCreditReport": ("service",),
        "ListCircuits": ("analyst", "senior_analyst", "admin", "service"),
        "InjectFault": ("admin", "service"),
    },
)


class BureauApi(bureau_service_pb2_grpc.BureauServiceServicer):
    def __init__(
        self,
        gateway: BureauGateway,
        circuits: CircuitBoard,
        faults: FaultBoard,
        *,
        fault_injection_enabled: bool,
    ) -> None:
        self._gateway = gateway
        self._circuits = circuits
        self._faults = faults
        self._fault_injection_enabled = fault_injection_enabled

    async def GetCreditReport(
        self, request: bureau_service_pb2.GetCreditReportRequest, context: Context
    ) -> bureau_service_pb2.GetCreditReportResponse:
        try:
            checked = convert.report_request(request)
        except RequestInvalid as error:
            raise _invalid(error.violations) from None
        try:
            report = await self._gateway.credit_report(
                checked.country, checked.document, checked.consent_reference, time_left=time_remaining()
            )
        except ConsentMissing:
            raise errors.FailedPrecondition(
                "a bureau enquiry needs the applicant's recorded consent",
                reason="CONSENT_REQUIRED",
                metadata={"field": "consent_reference"},
            ) from None
        return bureau_service_pb2.GetCreditReportResponse(credit_report=convert.report_to_proto(report))

    async def ListCircuits(
        self, request: bureau_service_pb2.ListCircuitsRequest, context: Context
    ) -> bureau_service_pb2.ListCircuitsResponse:
        return bureau_service_pb2.ListCircuitsResponse(
            circuits=[convert.circuit_to_proto(snapshot) for snapshot in self._circuits.snapshots()]
        )

    async def InjectFault(
        self, request: bureau_service_pb2.InjectFaultRequest, context: Context
    ) -> bureau_service_pb2.InjectFaultResponse:
        if not self._fault_injection_enabled:
            raise errors.FailedPrecondition(
                "fault injection is disabled on this server",
                reason="FAULT_INJECTION_DISABLED",
                metadata={"setting": "BUREAU_FAULT_INJECTION_ENABLED"},
            )
        try:
            country, spec = convert.fault_request(request)
        except RequestInvalid as error:
            raise _invalid(error.violations) from None
        fault = self._faults.inject(country, spec)
        # Worth a line at WARNING: every failure that follows is on purpose, and whoever reads the log
        # after an incident must be able to tell.
        log.warning(
            "bureau fault injected",
            extra={
                "country": country.value,
                "fault_kind": spec.kind.value,
                "failure_rate": spec.failure_rate,
                "added_latency_ms": round(spec.added_latency.total_seconds() * 1000),
                "duration_seconds": None if spec.duration is None else spec.duration.total_seconds(),
                "subject": current_principal().subject,
            },
        )
        response = bureau_service_pb2.InjectFaultResponse()
        if fault is not None and fault.expire_time is not None:
            expire_time = Timestamp()
            expire_time.FromDatetime(fault.expire_time)
            response.expire_time.CopyFrom(expire_time)
        return response


def register(server: grpc.aio.Server, api: BureauApi) -> None:
    bureau_service_pb2_grpc.add_BureauServiceServicer_to_server(api, server)


def _invalid(violations: list[Violation]) -> errors.InvalidArgument:
    count = len(violations)
    return errors.InvalidArgument(
        f"{count} field{'s are' if count != 1 else ' is'} invalid",
        reason="INVALID_REQUEST",
        violations=[errors.FieldViolation(v.field, v.description, v.reason) for v in violations],
    )
