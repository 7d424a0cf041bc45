"""ScoringService over gRPC: what-if evaluation, rule sets, and the dead letters of failed jobs."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import grpc

from globalcredit.scoring.v1 import scoring_service_pb2, scoring_service_pb2_grpc
from scoring import convert
from scoring.dead_letters import DeadLetters, StoredDeadLetter
from scoring.failures import JobFailedAgain, JobFailures
from scoring.jobs import InvalidFigures, evaluate
from scoring.rulesets import RuleSetNotFound, rule_set
from scoring.upstream import Bureau, UpstreamFailure, UpstreamUnavailable
from svckit import errors, paging
from svckit.auth import AccessPolicy

ERROR_DOMAIN = "scoring.globalcredit.com"
SERVICE_NAME = "globalcredit.scoring.v1.ScoringService"
Context = grpc.aio.ServicerContext[Any, Any]

_ANALYSTS = ("analyst", "senior_analyst", "admin", "service")
ACCESS_POLICY = AccessPolicy.for_service(
    SERVICE_NAME,
    {
        "EvaluateApplication": _ANALYSTS,
        "GetRuleSet": _ANALYSTS,
        "ListDeadLetters": ("admin",),
        "ReplayDeadLetter": ("admin",),
    },
)
_DEAD_LETTERS_SCOPE = paging.scope_of("dead-letters")
_DEAD_LETTER_ID = re.compile(r"[1-9][0-9]{0,19}")
_MAX_SEQUENCE = 2**63 - 1
# The ErrorInfo reason of a bad request other than an evaluation's.
_BAD_REQUEST = "INVALID_REQUEST"


class ScoringApi(scoring_service_pb2_grpc.ScoringServiceServicer):
    def __init__(self, bureau: Bureau, dead_letters: DeadLetters, failures: JobFailures) -> None:
        self._bureau = bureau
        self._dead_letters = dead_letters
        self._failures = failures

    async def EvaluateApplication(
        self, request: scoring_service_pb2.EvaluateApplicationRequest, context: Context
    ) -> scoring_service_pb2.EvaluateApplicationResponse:
        country = convert.country_from_proto(request.country)
        if country is None:
            raise _invalid([errors.FieldViolation("country", "a country is required", "COUNTRY_REQUIRED")])
        report = request.credit_report
        if not request.HasField("credit_report"):
            if not request.identity_document.strip():
                raise _invalid(
                    [
                        errors.FieldViolation(
                            "identity_document",
                            "needed to ask the bureau when no credit report is given",
                            "IDENTITY_DOCUMENT_REQUIRED",
                        )
                    ]
                )
            if not request.consent_reference.strip():
                raise errors.FailedPrecondition(
                    "the bureau may be asked only with the applicant's consent", reason="CONSENT_REQUIRED"
                )
            with _upstream_errors():
                report = await self._bureau.credit_report(
                    request.country, request.identity_document, request.consent_reference
                )
        try:
            decision = evaluate(
                country, request.requested_amount, request.monthly_income, request.term_months, report
            )
        except InvalidFigures as error:
            raise _invalid(error.violations) from None
        return scoring_service_pb2.EvaluateApplicationResponse(
            decision=convert.decision_to_proto(decision, datetime.now(UTC)), credit_report=report
        )

    async def GetRuleSet(
        self, request: scoring_service_pb2.GetRuleSetRequest, context: Context
    ) -> scoring_service_pb2.GetRuleSetResponse:
        country = convert.country_from_proto(request.country)
        if country is None:
            raise _invalid(
                [errors.FieldViolation("country", "a country is required", "COUNTRY_REQUIRED")],
                reason=_BAD_REQUEST,
            )
        try:
            found = rule_set(country, request.version or None)
        except RuleSetNotFound:
            raise errors.NotFound(
                "no such rule set version", reason="RULE_SET_NOT_FOUND", metadata={"version": request.version}
            ) from None
        return scoring_service_pb2.GetRuleSetResponse(rule_set=convert.rule_set_to_proto(found))

    async def ListDeadLetters(
        self, request: scoring_service_pb2.ListDeadLettersRequest, context: Context
    ) -> scoring_service_pb2.ListDeadLettersResponse:
        try:
            size = paging.page_size(request.page_size)
            token = paging.decode(request.page_token, scope=_DEAD_LETTERS_SCOPE)
            after = 0 if token is None else int(token.position)
            if not 0 <= after < _MAX_SEQUENCE:
                raise paging.InvalidPageToken("the page token is not valid")
        except paging.InvalidPageSize as error:
            raise _invalid(
                [errors.FieldViolation("page_size", str(error), "INVALID_PAGE_SIZE")], reason=_BAD_REQUEST
            ) from None
        except (paging.InvalidPageToken, ValueError) as error:
            raise _invalid(
                [errors.FieldViolation("page_token", str(error), "INVALID_PAGE_TOKEN")], reason=_BAD_REQUEST
            ) from None
        found = await self._dead_letters.page(after=after, limit=size + 1)
        items = found[:size]
        next_token = ""
        if len(found) > size:
            next_token = paging.encode(paging.PageToken(str(items[-1].sequence), _DEAD_LETTERS_SCOPE))
        return scoring_service_pb2.ListDeadLettersResponse(
            dead_letters=[_dead_letter_to_proto(item) for item in items], next_page_token=next_token
        )

    async def ReplayDeadLetter(
        self, request: scoring_service_pb2.ReplayDeadLetterRequest, context: Context
    ) -> scoring_service_pb2.ReplayDeadLetterResponse:
        # Ids are stream sequences: positive 64-bit numbers, in ASCII digits (isdigit() also takes "²").
        if not _DEAD_LETTER_ID.fullmatch(request.id) or int(request.id) > _MAX_SEQUENCE:
            raise _invalid(
                [errors.FieldViolation("id", "a dead letter's id", "INVALID_ID")], reason=_BAD_REQUEST
            )
        try:
            replayed = await self._failures.replay(int(request.id))
        except JobFailedAgain as error:
            raise errors.Unavailable(
                "the job failed again and was dead-lettered anew",
                reason="JOB_FAILED_AGAIN",
                metadata={"dead_letter": str(error.dead_letter_id)},
            ) from None
        if replayed is None:
            raise errors.NotFound(
                "no such dead letter", reason="DEAD_LETTER_NOT_FOUND", metadata={"id": request.id}
            )
        return scoring_service_pb2.ReplayDeadLetterResponse()


def register(server: grpc.aio.Server, api: ScoringApi) -> None:
    scoring_service_pb2_grpc.add_ScoringServiceServicer_to_server(api, server)


@contextmanager
def _upstream_errors() -> Iterator[None]:
    try:
        yield
    except UpstreamUnavailable as error:
        raise errors.Unavailable("the bureau is unavailable", reason="BUREAU_UNAVAILABLE") from error
    except UpstreamFailure as error:
        if error.code == grpc.StatusCode.INVALID_ARGUMENT:
            # The bureau names the request's own fields (identity_document, country): pass them on.
            raise _invalid(list(error.violations)) from error
        raise errors.FailedPrecondition("the bureau refused the enquiry", reason=error.reason) from error


def _invalid(
    violations: list[errors.FieldViolation], reason: str = "INVALID_EVALUATION"
) -> errors.InvalidArgument:
    return errors.InvalidArgument(f"{len(violations)} invalid field(s)", reason=reason, violations=violations)


def _dead_letter_to_proto(stored: StoredDeadLetter) -> scoring_service_pb2.DeadLetter:
    record = stored.record
    return scoring_service_pb2.DeadLetter(
        id=str(stored.sequence),
        name=record.job.name,
        job_id=record.job.event_id,
        reason=record.reason,
        error=record.error,
        deliveries=record.deliveries,
        fail_time=record.occur_time,
    )
