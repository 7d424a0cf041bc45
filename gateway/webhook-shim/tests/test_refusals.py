"""How intake's refusals become HTTP answers (the cases a real intake cannot easily be made to produce are
covered here; the others also through a real intake in test_webhook.py)."""

from __future__ import annotations

import grpc
import pytest

from svckit.errors import ErrorDetails, FieldViolation
from webhook_shim.metrics import Outcome
from webhook_shim.refusals import from_intake

C = grpc.StatusCode


@pytest.mark.parametrize(
    ("code", "reason", "status", "outcome", "answer_reason"),
    [
        (C.INVALID_ARGUMENT, "INVALID_BANK_CONFIRMATION", 400, Outcome.INVALID, "INVALID_BANK_CONFIRMATION"),
        (C.NOT_FOUND, "APPLICATION_NOT_FOUND", 404, Outcome.UNKNOWN_APPLICATION, "APPLICATION_NOT_FOUND"),
        (C.ALREADY_EXISTS, "WEBHOOK_ID_REUSED", 409, Outcome.WEBHOOK_ID_REUSED, "WEBHOOK_ID_REUSED"),
        (C.FAILED_PRECONDITION, "APPLICATION_FINAL", 409, Outcome.PRECONDITION_FAILED, "APPLICATION_FINAL"),
        (C.UNAVAILABLE, "", 503, Outcome.INTAKE_UNAVAILABLE, "INTAKE_UNAVAILABLE"),
        (C.DEADLINE_EXCEEDED, "", 503, Outcome.INTAKE_UNAVAILABLE, "INTAKE_UNAVAILABLE"),
        (C.ABORTED, "ETAG_MISMATCH", 503, Outcome.INTAKE_UNAVAILABLE, "INTAKE_UNAVAILABLE"),
        (C.RESOURCE_EXHAUSTED, "", 503, Outcome.INTAKE_UNAVAILABLE, "INTAKE_UNAVAILABLE"),
        (C.UNAUTHENTICATED, "TOKEN_EXPIRED", 502, Outcome.INTAKE_ERROR, "INTAKE_ERROR"),
        (C.PERMISSION_DENIED, "ROLE_NOT_ALLOWED", 502, Outcome.INTAKE_ERROR, "INTAKE_ERROR"),
        (C.INTERNAL, "", 502, Outcome.INTAKE_ERROR, "INTAKE_ERROR"),
    ],
)
def test_each_intake_code_has_its_answer(
    code: grpc.StatusCode, reason: str, status: int, outcome: Outcome, answer_reason: str
) -> None:
    refusal = from_intake(ErrorDetails(code=code, message="intake says no", reason=reason), retry_after=30)
    assert (refusal.status, refusal.outcome, refusal.reason) == (status, outcome, answer_reason)
    assert ("Retry-After" in refusal.headers()) == (status == 503)


def test_a_503_tells_the_bank_when_to_deliver_again() -> None:
    refusal = from_intake(ErrorDetails(code=grpc.StatusCode.UNAVAILABLE, message="down"), retry_after=17)
    assert refusal.headers() == {"Retry-After": "17"}


def test_intakes_own_words_stay_out_of_a_502() -> None:
    details = ErrorDetails(code=grpc.StatusCode.UNAUTHENTICATED, message="token for webhook-shim expired")
    assert "webhook-shim" not in str(from_intake(details, retry_after=30).body())


def test_field_violations_are_passed_on_in_the_body() -> None:
    details = ErrorDetails(
        code=grpc.StatusCode.INVALID_ARGUMENT,
        message="the application is invalid: 1 field wrong",
        reason="INVALID_APPLICATION",
        violations=(
            FieldViolation("amount_disbursed.currency_code", "must be the application's currency", "X"),
        ),
    )
    assert from_intake(details, retry_after=30).body() == {
        "error": {
            "reason": "INVALID_APPLICATION",
            "message": "the application is invalid: 1 field wrong",
            "field_violations": [
                {
                    "field": "amount_disbursed.currency_code",
                    "description": "must be the application's currency",
                    "reason": "X",
                }
            ],
        }
    }
