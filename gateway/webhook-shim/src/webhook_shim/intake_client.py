"""The call to intake: `RecordBankConfirmation`, over a svckit client channel, so it carries the shim's
service token, the request id, the trace context and a deadline. Intake's refusals come back decoded,
their field paths renamed to the payload's."""

from __future__ import annotations

from dataclasses import dataclass, replace

import grpc
import grpc.aio
from google.protobuf.timestamp_pb2 import Timestamp

from globalcredit.intake.v1 import application_pb2, intake_service_pb2, intake_service_pb2_grpc
from globalcredit.type.v1 import money_pb2
from svckit.client import TokenProvider, client_channel
from svckit.errors import ErrorDetails, error_details
from webhook_shim.payload import BankConfirmation

# The request's field → what the bank knows it as (the payload's field, or the header).
_PAYLOAD_NAMES = {"name": "application", "occur_time": "occurred_at", "webhook_id": "webhook-id"}


@dataclass(frozen=True)
class RecordedConfirmation:
    """The application after intake recorded the confirmation."""

    application: str
    status: str
    """The proto enum name, e.g. `APPLICATION_STATUS_COMPLETED`."""


class IntakeRefused(Exception):
    """Intake did not record the confirmation; `details` says why (code, reason, violations)."""

    def __init__(self, details: ErrorDetails) -> None:
        super().__init__(f"{details.code.name}: {details.reason or details.message}")
        self.details = details


class IntakeClient:
    """Records bank confirmations in intake."""

    def __init__(self, channel: grpc.aio.Channel, *, timeout: float) -> None:
        self._stub = intake_service_pb2_grpc.IntakeServiceStub(channel)
        self._timeout = timeout

    async def record(self, confirmation: BankConfirmation, *, webhook_id: str) -> RecordedConfirmation:
        """Record `confirmation` under `webhook_id`, intake's idempotency key: a redelivery returns the
        application as it is and changes nothing. Raises `IntakeRefused`."""
        request = intake_service_pb2.RecordBankConfirmationRequest(
            name=confirmation.application,
            webhook_id=webhook_id,
            bank_reference=confirmation.bank_reference,
            identity_verified=confirmation.identity_verified,
            disbursed=confirmation.disbursed,
            occur_time=_timestamp(confirmation),
        )
        if confirmation.amount_disbursed is not None:
            request.amount_disbursed.CopyFrom(
                money_pb2.Money(
                    currency_code=confirmation.amount_disbursed.currency_code,
                    amount=format(confirmation.amount_disbursed.amount, "f"),
                )
            )
        try:
            response = await self._stub.RecordBankConfirmation(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as error:
            raise IntakeRefused(_in_payload_terms(error_details(error))) from None
        application = response.application
        return RecordedConfirmation(
            application=application.name,
            status=application_pb2.ApplicationStatus.Name(application.status),
        )


def intake_channel(address: str, *, token_provider: TokenProvider, timeout: float) -> grpc.aio.Channel:
    """A channel to intake whose calls carry the token, request id, trace context and a deadline."""
    return client_channel(address, token_provider=token_provider, default_timeout=timeout)


def _timestamp(confirmation: BankConfirmation) -> Timestamp:
    timestamp = Timestamp()
    timestamp.FromDatetime(confirmation.occurred_at)
    return timestamp


def _in_payload_terms(details: ErrorDetails) -> ErrorDetails:
    violations = tuple(
        replace(violation, field=_payload_field(violation.field)) for violation in details.violations
    )
    return replace(details, violations=violations)


def _payload_field(path: str) -> str:
    head, dot, rest = path.partition(".")
    return f"{_PAYLOAD_NAMES.get(head, head)}{dot}{rest}"
