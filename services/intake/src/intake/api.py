"""IntakeService over gRPC: one short method per RPC — proto in, use case, proto out — and the
translation of domain errors into `google.rpc.Status`."""

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import grpc

from globalcredit.intake.v1 import application_pb2, intake_service_pb2, intake_service_pb2_grpc
from intake import convert, metrics
from intake.convert import RequestInvalid
from intake.domain import Status, reason_required, validate_application
from intake.errors import (
    ApplicationInvalid,
    ApplicationNotFound,
    DomainError,
    DuplicateApplication,
    EtagMismatch,
    InvalidStatusTransition,
    PiiReadNotPermitted,
    ReasonRequired,
    RequestIdReused,
    SecondApproverRequired,
    TransitionNotPermitted,
    Violation,
    WebhookIdReused,
)
from intake.pii import PiiUnavailable
from intake.records import application_name
from intake.repository import DatabaseUnavailable, ListFilter
from intake.service import ApplicationView, IntakeService, utc_now
from svckit import errors, paging
from svckit.auth import AccessPolicy, current_principal

ERROR_DOMAIN = "intake.globalcredit.com"
_FAILURE_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,62}")
Context = grpc.aio.ServicerContext[Any, Any]
SERVICE_NAME = "globalcredit.intake.v1.IntakeService"

_READERS = ("partner", "analyst", "senior_analyst", "admin", "service")
ACCESS_POLICY = AccessPolicy.for_service(
    SERVICE_NAME,
    {
        "CreateApplication": ("partner", "analyst", "senior_analyst", "admin"),
        "GetApplication": _READERS,
        "ListApplications": _READERS,
        "UpdateApplicationStatus": ("analyst", "senior_analyst", "admin", "service"),
        "CancelApplication": ("partner", "analyst", "senior_analyst", "admin"),
        "ListApplicationEvents": ("partner", "analyst", "senior_analyst", "admin"),
        "RecordBankConfirmation": ("service",),
        "StartValidation": ("service",),
        "RecordDecision": ("service",),
        "RecordScoringFailure": ("service",),
        "EraseApplicantData": ("admin",),
    },
)

_CODES: Mapping[type[DomainError], type[errors.ServiceError]] = {
    ApplicationInvalid: errors.InvalidArgument,
    ReasonRequired: errors.InvalidArgument,
    ApplicationNotFound: errors.NotFound,
    InvalidStatusTransition: errors.FailedPrecondition,
    TransitionNotPermitted: errors.PermissionDenied,
    PiiReadNotPermitted: errors.PermissionDenied,
    SecondApproverRequired: errors.PermissionDenied,
    EtagMismatch: errors.Aborted,
    RequestIdReused: errors.AlreadyExists,
    DuplicateApplication: errors.AlreadyExists,
    WebhookIdReused: errors.AlreadyExists,
    PiiUnavailable: errors.FailedPrecondition,
}


class IntakeApi(intake_service_pb2_grpc.IntakeServiceServicer):
    def __init__(self, service: IntakeService) -> None:
        self._service = service

    async def CreateApplication(
        self, request: intake_service_pb2.CreateApplicationRequest, context: Context
    ) -> intake_service_pb2.CreateApplicationResponse:
        draft = convert.draft_from_proto(request.application)
        request_id = _request_id(request.request_id)
        if request_id is None:
            # Report the request id together with whatever else is wrong, in one BadRequest.
            violations = [Violation("request_id", "REQUEST_ID_INVALID", "must be a UUID")]
            try:
                validate_application(draft, now=utc_now())
            except ApplicationInvalid as error:
                violations += [_prefixed(v, "application.") for v in error.violations]
            raise _invalid("INVALID_APPLICATION", violations)
        with _translated(field_prefix="application."):
            view = await self._service.create(draft, request_id=request_id, caller=current_principal())
        metrics.APPLICATIONS_CREATED.labels(view.application.country.value).inc()
        return intake_service_pb2.CreateApplicationResponse(application=convert.application_to_proto(view))

    async def GetApplication(
        self, request: intake_service_pb2.GetApplicationRequest, context: Context
    ) -> intake_service_pb2.GetApplicationResponse:
        with _translated():
            view = await self._service.get(
                convert.application_id(request.name),
                caller=current_principal(),
                reveal=request.view == application_pb2.APPLICATION_VIEW_FULL,
            )
        return intake_service_pb2.GetApplicationResponse(application=convert.application_to_proto(view))

    async def ListApplications(
        self, request: intake_service_pb2.ListApplicationsRequest, context: Context
    ) -> intake_service_pb2.ListApplicationsResponse:
        violations: list[Violation] = []
        country = convert.country_from_proto(request.country) if request.country else None
        if request.country and country is None:
            violations.append(Violation("country", "COUNTRY_INVALID", "not a known country"))
        status = convert.status_from_proto(request.status) if request.status else None
        if request.status and status is None:
            violations.append(Violation("status", "STATUS_INVALID", "not a known status"))
        if violations:
            raise _invalid("INVALID_FILTER", violations)
        with _translated():
            page = await self._service.list_applications(
                ListFilter(country=country, status=status),
                page_size=request.page_size,
                page_token=request.page_token,
                caller=current_principal(),
            )
        return intake_service_pb2.ListApplicationsResponse(
            applications=[convert.application_to_proto(view) for view in page.items],
            next_page_token=page.next_page_token,
        )

    async def UpdateApplicationStatus(
        self, request: intake_service_pb2.UpdateApplicationStatusRequest, context: Context
    ) -> intake_service_pb2.UpdateApplicationStatusResponse:
        target = convert.status_from_proto(request.status) if request.status else None
        extra = (
            [] if target is not None else [Violation("status", "STATUS_REQUIRED", "the status to move to")]
        )
        application_id = _change_request(request.name, request.reason, request.etag, extra)
        assert target is not None  # _change_request raised otherwise
        view = await self._change(application_id, target, request.reason, request.etag)
        return intake_service_pb2.UpdateApplicationStatusResponse(
            application=convert.application_to_proto(view)
        )

    async def CancelApplication(
        self, request: intake_service_pb2.CancelApplicationRequest, context: Context
    ) -> intake_service_pb2.CancelApplicationResponse:
        application_id = _change_request(request.name, request.reason, request.etag, [])
        view = await self._change(application_id, Status.CANCELLED, request.reason, request.etag)
        return intake_service_pb2.CancelApplicationResponse(application=convert.application_to_proto(view))

    async def ListApplicationEvents(
        self, request: intake_service_pb2.ListApplicationEventsRequest, context: Context
    ) -> intake_service_pb2.ListApplicationEventsResponse:
        with _translated():
            page = await self._service.list_audit(
                convert.application_id(request.name),
                page_size=request.page_size,
                page_token=request.page_token,
                caller=current_principal(),
            )
        return intake_service_pb2.ListApplicationEventsResponse(
            events=[convert.audit_to_proto(entry) for entry in page.items],
            next_page_token=page.next_page_token,
        )

    async def RecordBankConfirmation(
        self, request: intake_service_pb2.RecordBankConfirmationRequest, context: Context
    ) -> intake_service_pb2.RecordBankConfirmationResponse:
        with _translated():
            application_id = convert.application_id(request.name)
            confirmation = convert.bank_confirmation_from_proto(request)
            view = await self._service.record_bank_confirmation(
                application_id, confirmation, caller=current_principal()
            )
        return intake_service_pb2.RecordBankConfirmationResponse(
            application=convert.application_to_proto(view)
        )

    async def StartValidation(
        self, request: intake_service_pb2.StartValidationRequest, context: Context
    ) -> intake_service_pb2.StartValidationResponse:
        with _translated():
            application_id = convert.application_id(request.name)
            if not request.job_id:
                raise RequestInvalid(
                    "INVALID_JOB", [Violation("job_id", "JOB_ID_REQUIRED", "the scoring job id")]
                )
            view = await self._service.start_validation(
                application_id, job_id=request.job_id, caller=current_principal()
            )
        return intake_service_pb2.StartValidationResponse(application=convert.application_to_proto(view))

    async def RecordDecision(
        self, request: intake_service_pb2.RecordDecisionRequest, context: Context
    ) -> intake_service_pb2.RecordDecisionResponse:
        with _translated():
            application_id = convert.application_id(request.name)
            recorded = convert.recorded_decision_from_proto(request)
            view = await self._service.record_decision(application_id, recorded, caller=current_principal())
        return intake_service_pb2.RecordDecisionResponse(application=convert.application_to_proto(view))

    async def RecordScoringFailure(
        self, request: intake_service_pb2.RecordScoringFailureRequest, context: Context
    ) -> intake_service_pb2.RecordScoringFailureResponse:
        with _translated():
            application_id = convert.application_id(request.name)
            violations = []
            if not request.job_id:
                violations.append(Violation("job_id", "JOB_ID_REQUIRED", "the scoring job id"))
            if not _FAILURE_CODE.fullmatch(request.failure_code):
                violations.append(
                    Violation(
                        "failure_code",
                        "FAILURE_CODE_INVALID",
                        "an UPPER_SNAKE_CASE code of 1 to 63 characters",
                    )
                )
            if violations:
                raise RequestInvalid("INVALID_SCORING_FAILURE", violations)
            view = await self._service.record_scoring_failure(
                application_id,
                job_id=request.job_id,
                failure_code=request.failure_code,
                caller=current_principal(),
            )
        return intake_service_pb2.RecordScoringFailureResponse(application=convert.application_to_proto(view))

    async def EraseApplicantData(
        self, request: intake_service_pb2.EraseApplicantDataRequest, context: Context
    ) -> intake_service_pb2.EraseApplicantDataResponse:
        violations: list[Violation] = []
        application_id = None
        try:
            application_id = convert.application_id(request.name)
        except RequestInvalid as error:
            violations += error.violations
        try:
            reason_required(request.reason)
        except ReasonRequired as error:
            violations.append(Violation("reason", error.reason, error.description))
        if violations or application_id is None:
            raise _invalid("INVALID_ERASURE", violations)
        with _translated():
            erased = await self._service.erase_applicant(
                application_id, reason=request.reason, caller=current_principal()
            )
        return intake_service_pb2.EraseApplicantDataResponse(
            erased_applications=[application_name(erased_id) for erased_id in erased]
        )

    async def _change(self, application_id: UUID, target: Status, reason: str, etag: str) -> ApplicationView:
        with _translated():
            return await self._service.change_status(
                application_id, target=target, reason=reason, etag=etag, caller=current_principal()
            )


def register(server: grpc.aio.Server, api: IntakeApi) -> None:
    intake_service_pb2_grpc.add_IntakeServiceServicer_to_server(api, server)


def _change_request(name: str, reason: str, etag: str, violations: list[Violation]) -> UUID:
    """The application id of a status change, once name, reason and etag are all present and sound."""
    application_id = None
    try:
        application_id = convert.application_id(name)
    except RequestInvalid as error:
        violations = [*violations, *error.violations]
    try:
        reason_required(reason)
    except ReasonRequired as error:
        violations.append(Violation("reason", error.reason, error.description))
    if not etag:
        violations.append(Violation("etag", "ETAG_REQUIRED", "the etag of the application as last read"))
    if violations or application_id is None:
        raise _invalid("INVALID_STATUS_CHANGE", violations)
    return application_id


@contextmanager
def _translated(field_prefix: str = "") -> Iterator[None]:
    """Domain errors out as service errors; violation paths made relative to the request."""
    try:
        yield
    except RequestInvalid as error:
        raise _invalid(error.reason, list(error.violations)) from None
    except ApplicationInvalid as error:
        raise _invalid(error.reason, [_prefixed(v, field_prefix) for v in error.violations]) from None
    except ReasonRequired as error:
        raise _invalid(error.reason, [Violation("reason", error.reason, error.description)]) from None
    except paging.InvalidPageToken as error:
        raise _invalid(
            "INVALID_PAGE_TOKEN", [Violation("page_token", "INVALID_PAGE_TOKEN", str(error))]
        ) from None
    except paging.InvalidPageSize as error:
        raise _invalid(
            "INVALID_PAGE_SIZE", [Violation("page_size", "INVALID_PAGE_SIZE", str(error))]
        ) from None
    except DatabaseUnavailable:
        raise errors.Unavailable(
            "the database is unavailable; retry", reason="DATABASE_UNAVAILABLE"
        ) from None
    except DomainError as error:
        code = _CODES.get(type(error), errors.Internal)
        raise code(error.description, reason=error.reason, metadata=error.metadata) from None


def _invalid(reason: str, violations: list[Violation]) -> errors.InvalidArgument:
    count = len(violations)
    return errors.InvalidArgument(
        f"{count} field{'s are' if count != 1 else ' is'} invalid",
        reason=reason,
        violations=[errors.FieldViolation(v.field, v.description, v.reason) for v in violations],
    )


def _prefixed(violation: Violation, prefix: str) -> Violation:
    return Violation(prefix + violation.field, violation.reason, violation.description)


def _request_id(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None
