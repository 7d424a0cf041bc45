"""Why a delivery is refused, as an HTTP answer: status, stable `reason`, message, field violations,
and the metric outcome. One table for the shim's own checks and for intake's refusals.

The body has the shape of our gRPC BadRequest, in JSON:
`{"error": {"reason": …, "message": …, "field_violations": [{"field": …, "description": …, "reason": …}]}}`.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from svckit.errors import ErrorDetails, FieldViolation
from webhook_shim.metrics import Outcome
from webhook_shim.payload import PayloadInvalid
from webhook_shim.signatures import SIGNATURE_MISMATCH, TIMESTAMP_OUT_OF_TOLERANCE, DeliveryRejected

PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
INTAKE_UNAVAILABLE = "INTAKE_UNAVAILABLE"
INTAKE_ERROR = "INTAKE_ERROR"
INTERNAL = "INTERNAL"

# Intake could not answer now, but may in a moment: 503 with Retry-After, so the bank delivers again.
# ABORTED: intake lost a race on the application's version more often than it retries; a redelivery
# applies the confirmation to whatever state won. CANCELLED: the call was cut (the shim shutting down).
_TRANSIENT = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.CANCELLED,
    }
)


class Refusal(Exception):
    """A delivery answered with an error status."""

    def __init__(
        self,
        status: int,
        outcome: Outcome,
        reason: str,
        message: str,
        violations: Sequence[FieldViolation] = (),
        *,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.outcome = outcome
        self.reason = reason
        self.message = message
        self.violations = tuple(violations)
        self.retry_after = retry_after

    def body(self) -> dict[str, object]:
        return {
            "error": {
                "reason": self.reason,
                "message": self.message,
                "field_violations": [
                    {"field": v.field, "description": v.description, "reason": v.reason}
                    for v in self.violations
                ],
            }
        }

    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


def too_large(limit: int) -> Refusal:
    return Refusal(413, Outcome.TOO_LARGE, PAYLOAD_TOO_LARGE, f"the body must be at most {limit} bytes")


def unauthenticated(error: DeliveryRejected) -> Refusal:
    """401 for headers, signature or timestamp; the message never repeats what was sent."""
    if error.reason == SIGNATURE_MISMATCH:
        outcome = Outcome.BAD_SIGNATURE
    elif error.reason == TIMESTAMP_OUT_OF_TOLERANCE:
        outcome = Outcome.STALE_TIMESTAMP
    else:
        outcome = Outcome.BAD_HEADERS
    return Refusal(401, outcome, error.reason, error.message)


def invalid_payload(error: PayloadInvalid) -> Refusal:
    return Refusal(400, Outcome.INVALID, error.reason, error.message, error.violations)


def from_intake(details: ErrorDetails, *, retry_after: int) -> Refusal:
    """Intake's refusal, mapped code by code; intake's messages and reasons are PII-free and stable."""
    code = details.code
    reason = details.reason or code.name
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return Refusal(400, Outcome.INVALID, reason, details.message, details.violations)
    if code == grpc.StatusCode.NOT_FOUND:
        return Refusal(404, Outcome.UNKNOWN_APPLICATION, reason, details.message)
    if code == grpc.StatusCode.ALREADY_EXISTS:
        return Refusal(409, Outcome.WEBHOOK_ID_REUSED, reason, details.message)
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return Refusal(409, Outcome.PRECONDITION_FAILED, reason, details.message)
    if code in _TRANSIENT:
        return Refusal(
            503,
            Outcome.INTAKE_UNAVAILABLE,
            INTAKE_UNAVAILABLE,
            "the confirmation could not be recorded now; deliver it again later",
            retry_after=retry_after,
        )
    # Our own token or role refused, or intake failing: nothing the bank did. A 502 still makes the bank
    # deliver again (any non-2xx does); intake's own words stay in our logs, not in the answer.
    return Refusal(502, Outcome.INTAKE_ERROR, INTAKE_ERROR, "the confirmation could not be recorded")


def internal() -> Refusal:
    return Refusal(500, Outcome.ERROR, INTERNAL, "internal error")
