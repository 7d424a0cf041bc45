"""Scoring's calls to intake and bureau-gateway, with each failure sorted by what the job should do:
retry later (`TransientError`), give up (`PermanentError`), or stop because the job is over (`JobOver`)."""

from collections.abc import Awaitable
from typing import TypeVar

import grpc

from globalcredit.bureau.v1 import bureau_service_pb2, bureau_service_pb2_grpc
from globalcredit.intake.v1 import application_pb2, intake_service_pb2, intake_service_pb2_grpc
from globalcredit.type.v1 import country_pb2, credit_report_pb2, decision_pb2
from svckit.errors import FieldViolation, error_details
from svckit.pull_worker import PermanentError, TransientError

T = TypeVar("T")

# Worth another try: the peer is down, overloaded, slow, or lost a race.
_TRANSIENT = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.CANCELLED,
    }
)


# Intake's answer when the application has moved on without this job.
_JOB_OVER = (grpc.StatusCode.FAILED_PRECONDITION, "INVALID_STATUS_TRANSITION")


class JobOver(Exception):
    """The application has moved on (decided, cancelled, taken by another job): nothing left to do."""


class UpstreamFailure(PermanentError):
    """A peer refused the job for good; `reason` is its stable ErrorInfo reason (or the status code), and
    `violations` the fields it named, if any."""

    def __init__(
        self,
        peer: str,
        code: grpc.StatusCode,
        reason: str,
        message: str,
        violations: tuple[FieldViolation, ...] = (),
    ) -> None:
        super().__init__(f"{peer} refused: {code.name} {reason}: {message}")
        self.code = code
        self.reason = reason or code.name
        self.violations = violations


class UpstreamUnavailable(TransientError):
    """A peer could not answer now."""

    def __init__(self, peer: str, code: grpc.StatusCode, message: str) -> None:
        super().__init__(f"{peer} unavailable: {code.name}: {message}")
        self.code = code


async def _call(peer: str, call: Awaitable[T]) -> T:
    try:
        return await call
    except grpc.aio.AioRpcError as error:
        details = error_details(error)
        if (details.code, details.reason) == _JOB_OVER:
            raise JobOver(details.message) from error
        if details.code in _TRANSIENT:
            raise UpstreamUnavailable(peer, details.code, details.message) from error
        raise UpstreamFailure(
            peer, details.code, details.reason, details.message, details.violations
        ) from error


class Intake:
    """The job's steps in intake. Every one of them is idempotent by job id."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = intake_service_pb2_grpc.IntakeServiceStub(channel)

    async def start_validation(self, name: str, job_id: str) -> application_pb2.Application:
        request = intake_service_pb2.StartValidationRequest(name=name, job_id=job_id)
        return (await _call("intake", self._stub.StartValidation(request))).application

    async def record_decision(
        self,
        name: str,
        job_id: str,
        decision: decision_pb2.Decision,
        report: credit_report_pb2.CreditReport,
    ) -> application_pb2.Application:
        request = intake_service_pb2.RecordDecisionRequest(
            name=name, job_id=job_id, decision=decision, credit_report=report
        )
        return (await _call("intake", self._stub.RecordDecision(request))).application

    async def record_failure(self, name: str, job_id: str, failure_code: str) -> application_pb2.Application:
        request = intake_service_pb2.RecordScoringFailureRequest(
            name=name, job_id=job_id, failure_code=failure_code
        )
        return (await _call("intake", self._stub.RecordScoringFailure(request))).application


class Bureau:
    """The credit report, from bureau-gateway (a fallback report when the bureau cannot answer)."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = bureau_service_pb2_grpc.BureauServiceStub(channel)

    async def credit_report(
        self, country: country_pb2.Country.ValueType, document: str, consent_reference: str
    ) -> credit_report_pb2.CreditReport:
        request = bureau_service_pb2.GetCreditReportRequest(
            country=country, identity_document=document, consent_reference=consent_reference
        )
        return (await _call("bureau-gateway", self._stub.GetCreditReport(request))).credit_report
