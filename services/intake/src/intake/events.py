"""The events intake publishes to JetStream: the stream, and outbox rows turned into event protos."""

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from nats.aio.client import Client
from nats.js import JetStreamContext
from opentelemetry.trace import SpanKind, TracerProvider

from globalcredit.intake.v1 import events_pb2
from globalcredit.type.v1 import decision_pb2, money_pb2
from intake.convert import country_to_proto, outcome_to_proto, status_to_proto
from intake.countries import Country
from intake.domain import Status
from intake.money import format_amount
from intake.records import OutboxEvent, Outcome, application_name
from svckit.jetstream import connect_nats, ensure_stream, publish
from svckit.telemetry import extract_context, tracer

STREAM = "INTAKE"
SUBMITTED = "intake.application.submitted"
STATUS_CHANGED = "intake.application.status_changed"
BANK_CONFIRMATION_RECORDED = "intake.application.bank_confirmation_recorded"
SUBJECTS = ("intake.application.>",)

# Long enough for consumers to catch up after an outage and for watchers to resume; the duplicate
# window covers the relay's retries after a NATS restart.
STREAM_MAX_AGE = timedelta(days=7)
DUPLICATE_WINDOW = timedelta(minutes=10)


async def ensure_intake_stream(js: JetStreamContext) -> None:
    await ensure_stream(
        js,
        STREAM,
        list(SUBJECTS),
        sync_always=True,  # status changes and decisions must survive a power loss (SPEC §12)
        max_age=STREAM_MAX_AGE,
        duplicate_window=DUPLICATE_WINDOW,
    )


class JetStreamLink:
    """The relay's connection to JetStream, made on first use so that intake starts and takes
    applications while NATS is down; the outbox keeps the events until it is back."""

    def __init__(self, servers: Sequence[str], *, name: str = "intake") -> None:
        self._servers = list(servers)
        self._name = name
        self._client: Client | None = None
        self._js: JetStreamContext | None = None

    async def jetstream(self) -> JetStreamContext:
        if self._js is None:
            client = await connect_nats(self._servers, name=self._name)
            try:
                js = client.jetstream()
                await ensure_intake_stream(js)
            except BaseException:
                await client.close()
                raise
            self._client, self._js = client, js
        return self._js

    async def close(self) -> None:
        client, self._client, self._js = self._client, None, None
        if client is not None:
            await client.close()


def encode_event(event: OutboxEvent) -> bytes:
    """The serialized event proto for an outbox row."""
    return _event_message(event).SerializeToString()


def _event_message(event: OutboxEvent) -> Message:
    payload = event.payload
    common: dict[str, Any] = {
        "event_id": str(event.event_id),
        "occur_time": _timestamp(str(payload["occurred_at"])),
        "name": application_name(UUID(str(payload["application_id"]))),
        "country": country_to_proto(Country(str(payload["country"]))),
        "partner_id": payload.get("partner_id") or "",
    }
    if event.subject == SUBMITTED:
        currency = str(payload["currency"])
        return events_pb2.ApplicationSubmitted(
            **common,
            requested_amount=_money(currency, payload["requested_amount"]),
            monthly_income=_money(currency, payload["monthly_income"]),
            term_months=int(str(payload["term_months"])),
        )
    if event.subject == STATUS_CHANGED:
        outcome = payload.get("decision_outcome")
        risk_score = payload.get("risk_score")
        return events_pb2.ApplicationStatusChanged(
            **common,
            old_status=status_to_proto(Status(str(payload["old_status"]))),
            new_status=status_to_proto(Status(str(payload["new_status"]))),
            decision_outcome=outcome_to_proto(Outcome(str(outcome)))
            if outcome
            else decision_pb2.DECISION_OUTCOME_UNSPECIFIED,
            risk_score="" if risk_score is None else format_amount(Decimal(str(risk_score))),
            etag=str(payload["version"]),
        )
    if event.subject == BANK_CONFIRMATION_RECORDED:
        amount = payload.get("amount_disbursed")
        return events_pb2.BankConfirmationRecorded(
            **common,
            webhook_id=str(payload["webhook_id"]),
            bank_reference=str(payload["bank_reference"]),
            identity_verified=bool(payload["identity_verified"]),
            disbursed=bool(payload["disbursed"]),
            amount_disbursed=None if amount is None else _money(str(payload["currency"]), amount),
        )
    raise ValueError(f"no event proto for subject {event.subject!r}")


class EventPublisher:
    """Publishes outbox events to JetStream with `Nats-Msg-Id` = event id, so retries are deduplicated."""

    def __init__(
        self, link: JetStreamLink, *, timeout: float = 5.0, tracer_provider: TracerProvider | None = None
    ) -> None:
        self._link = link
        self._timeout = timeout
        self._tracer = tracer(tracer_provider)

    async def prepare(self) -> None:
        """Connects and declares the stream, so consumers can bind before the first event exists."""
        await self._link.jetstream()

    async def publish(self, events: Sequence[OutboxEvent]) -> list[int]:
        """Publishes the events concurrently; returns the outbox ids JetStream acknowledged."""
        js = await self._link.jetstream()
        results = await asyncio.gather(
            *(self._publish(js, event) for event in events), return_exceptions=True
        )
        failures = [result for result in results if isinstance(result, BaseException)]
        for failure in failures:
            if not isinstance(failure, Exception):
                raise failure  # cancellation and the like are not publish failures
        return [
            event.id
            for event, result in zip(events, results, strict=True)
            if not isinstance(result, Exception)
        ]

    async def _publish(self, js: JetStreamContext, event: OutboxEvent) -> None:
        # A PRODUCER span in the trace of the request that queued the event; `publish` puts its context in
        # the message headers, where the consumers pick the trace up.
        parent = extract_context({"traceparent": event.trace_context} if event.trace_context else None)
        with self._tracer.start_as_current_span(
            f"{event.subject} publish",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": event.subject,
                "messaging.message.id": str(event.event_id),
            },
        ):
            await publish(
                js, event.subject, encode_event(event), msg_id=str(event.event_id), timeout=self._timeout
            )


def _money(currency: str, amount: object) -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency, amount=format_amount(Decimal(str(amount))))


def _timestamp(text: str) -> Timestamp:
    timestamp = Timestamp()
    timestamp.FromDatetime(datetime.fromisoformat(text))
    return timestamp
