"""The outbox relay against real PostgreSQL and NATS JetStream (SPEC §2 flow, §12): every event the
triggers queue reaches the `INTAKE` stream exactly once, with `Nats-Msg-Id` = event id, in each
application's order, without PII, woken by NOTIFY, relayed by one replica at a time."""

import asyncio
import dataclasses
import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import nats
import pytest
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from prometheus_client import REGISTRY

from globalcredit.intake.v1 import application_pb2, events_pb2, intake_service_pb2
from globalcredit.type.v1 import country_pb2, credit_report_pb2, decision_pb2, money_pb2
from intake.app import build
from intake.events import (
    BANK_CONFIRMATION_RECORDED,
    STATUS_CHANGED,
    STREAM,
    SUBMITTED,
    ensure_intake_stream,
)
from intake.outbox_store import Outbox
from intake.settings import IntakeSettings
from samples.applications import create_request
from samples.documents import valid_document
from svckit.db import libpq_url
from svckit.local.nats import LocalNats

COUNTRIES = ("ES", "PT", "IT", "MX", "CO", "BR")
EVENT_TYPES: dict[str, type[Message]] = {
    SUBMITTED: events_pb2.ApplicationSubmitted,
    STATUS_CHANGED: events_pb2.ApplicationStatusChanged,
    BANK_CONFIRMATION_RECORDED: events_pb2.BankConfirmationRecorded,
}
S = application_pb2  # statuses: S.APPLICATION_STATUS_PENDING, …
Stub = Any  # IntakeServiceStub
Eventually = Callable[..., Any]


@dataclass(frozen=True)
class StreamMessage:
    sequence: int
    subject: str
    msg_id: str
    headers: dict[str, str]
    stored_at: datetime
    data: bytes
    event: Any  # one of the event protos of EVENT_TYPES

    @property
    def name(self) -> str:
        return str(self.event.name)


class IntakeStream:
    """The `INTAKE` stream from where it stood when the test began (other tests share the stream)."""

    def __init__(self, js: JetStreamContext, start: int) -> None:
        self._js = js
        self._next = start
        self.messages: list[StreamMessage] = []

    async def read(self) -> list[StreamMessage]:
        """Every message stored since the test began, in stream order."""
        last = (await self._js.stream_info(STREAM)).state.last_seq
        if last >= self._next:
            subscription = await self._js.subscribe(
                "intake.application.>",
                stream=STREAM,
                ordered_consumer=True,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                config=ConsumerConfig(opt_start_seq=self._next),
            )
            try:
                while self._next <= last:
                    message = await subscription.next_msg(timeout=5)
                    metadata = message.metadata
                    self.messages.append(
                        StreamMessage(
                            sequence=metadata.sequence.stream,
                            subject=message.subject,
                            msg_id=(message.headers or {}).get("Nats-Msg-Id", ""),
                            headers=dict(message.headers or {}),
                            stored_at=metadata.timestamp,
                            data=message.data,
                            event=EVENT_TYPES[message.subject].FromString(message.data),
                        )
                    )
                    self._next = metadata.sequence.stream + 1
            finally:
                await subscription.unsubscribe()
        return self.messages

    async def of(self, names: Iterable[str]) -> dict[str, list[StreamMessage]]:
        """The messages of these applications, per application, in stream order."""
        wanted = set(names)
        found: dict[str, list[StreamMessage]] = {name: [] for name in wanted}
        for message in await self.read():
            if message.name in wanted:
                found[message.name].append(message)
        return found

    async def all_submitted(self, names: Iterable[str]) -> bool:
        by_name = await self.of(names)
        return all(any(m.subject == SUBMITTED for m in messages) for messages in by_name.values())


@pytest.fixture
async def stream(nats_url: str) -> AsyncIterator[IntakeStream]:
    client = await nats.connect(nats_url, reconnect_time_wait=0.2, max_reconnect_attempts=-1)
    js = client.jetstream()
    await ensure_intake_stream(js)
    start = (await js.stream_info(STREAM)).state.last_seq + 1
    try:
        yield IntakeStream(js, start)
    finally:
        await client.close()


@dataclass(frozen=True)
class OutboxRow:
    id: int
    event_id: str
    name: str
    subject: str
    published_at: datetime | None


async def outbox_rows(database_url: str, names: Iterable[str] | None = None) -> list[OutboxRow]:
    """The outbox rows (of these applications), in id order."""
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT id, event_id, application_id, subject, published_at FROM outbox_events ORDER BY id"
        )
    finally:
        await connection.close()
    found = [
        OutboxRow(
            id=row["id"],
            event_id=str(row["event_id"]),
            name=f"applications/{row['application_id']}",
            subject=row["subject"],
            published_at=row["published_at"],
        )
        for row in rows
    ]
    if names is None:
        return found
    wanted = set(names)
    return [row for row in found if row.name in wanted]


async def all_published(database_url: str) -> bool:
    rows = await outbox_rows(database_url)
    return bool(rows) and all(row.published_at is not None for row in rows)


async def create_all(
    client: Stub, requests: Sequence[intake_service_pb2.CreateApplicationRequest], *, concurrency: int = 20
) -> list[application_pb2.Application]:
    limit = asyncio.Semaphore(concurrency)

    async def create(request: intake_service_pb2.CreateApplicationRequest) -> application_pb2.Application:
        async with limit:
            return (await client.CreateApplication(request)).application

    return list(await asyncio.gather(*(create(request) for request in requests)))


def requests_across_countries(count: int, rng: Any) -> list[intake_service_pb2.CreateApplicationRequest]:
    return [create_request(COUNTRIES[i % len(COUNTRIES)], rng=rng) for i in range(count)]


def decision_request(
    application: application_pb2.Application, job_id: str, outcome: int
) -> intake_service_pb2.RecordDecisionRequest:
    currency = application.requested_amount.currency_code
    return intake_service_pb2.RecordDecisionRequest(
        name=application.name,
        job_id=job_id,
        decision=decision_pb2.Decision(
            outcome=outcome,
            risk_score="42.50",
            risk_level=decision_pb2.RISK_LEVEL_MEDIUM,
            rule_set_version="test-2026.1",
            reasons=[
                decision_pb2.DecisionReason(
                    code="DEBT_TO_INCOME", effect=decision_pb2.RULE_EFFECT_SOFT, points=10, message="high"
                )
            ],
        ),
        credit_report=credit_report_pb2.CreditReport(
            provider="test-bureau",
            credit_score=700,
            total_debt=money_pb2.Money(currency_code=currency, amount="1000.00"),
            monthly_obligations=money_pb2.Money(currency_code=currency, amount="100.00"),
            account_age_months=48,
            report_id=f"report-{job_id}",
        ),
    )


@pytest.fixture
async def replica(
    intake: Any, intake_settings: Callable[[], IntakeSettings]
) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """Starts more intakes on the fixture's database and NATS (settings changed by keyword), with
    clients like the fixture's; stops them after the test."""
    started: list[Any] = []

    async def start(**settings: Any) -> Any:
        app = await build(intake_settings().model_copy(update=settings))
        await app.start()
        running = dataclasses.replace(intake, app=app, address=f"127.0.0.1:{app.server.port}", _channels=[])
        started.append(running)
        return running

    try:
        yield start
    finally:
        for running in started:
            await running.close_clients()
            await running.app.stop(grace=1.0)


ADVISORY_LOCK_HOLDERS = """
SELECT count(*) FROM pg_locks
WHERE locktype = 'advisory' AND granted AND objsubid = 1
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND classid::bigint = $1 AND objid::bigint = $2
"""


async def relay_lock_holders(connection: asyncpg.Connection) -> int:
    key = Outbox.LOCK_KEY
    holders: int = await connection.fetchval(ADVISORY_LOCK_HOLDERS, key >> 32, key & 0xFFFFFFFF)
    return holders


def published_total() -> float:
    return REGISTRY.get_sample_value("intake_outbox_published_total") or 0.0


# Exactly once, with the event id ------------------------------------------------------------------


async def test_every_committed_application_is_published_once_as_submitted_with_its_event_id(
    intake: Any, stream: IntakeStream, eventually: Eventually, rng: Any
) -> None:
    analyst = intake.client("analyst")
    partner = intake.client("partner", partner_id="p-outbox")
    requests = requests_across_countries(60, rng)
    created = await asyncio.gather(create_all(analyst, requests[:30]), create_all(partner, requests[30:]))
    applications = {application.name: application for application in created[0] + created[1]}

    await eventually(lambda: stream.all_submitted(applications), 30)
    await eventually(lambda: all_published(intake.database_url), 30)

    messages = await stream.of(applications)
    submitted_rows = {
        row.name: row for row in await outbox_rows(intake.database_url) if row.subject == SUBMITTED
    }
    assert set(submitted_rows) == set(applications)
    for name, application in applications.items():
        submitted = [m for m in messages[name] if m.subject == SUBMITTED]
        assert len(submitted) == 1, name
        message = submitted[0]
        event = message.event
        assert message.msg_id == event.event_id == submitted_rows[name].event_id
        assert event.name == name
        assert event.country == application.country
        assert event.requested_amount == application.requested_amount
        assert event.monthly_income == application.monthly_income
        assert event.term_months == application.term_months == 36
        assert event.partner_id == application.partner_id
        assert event.occur_time == application.create_time
    assert {a.partner_id for a in applications.values()} == {"", "p-outbox"}
    assert {a.country for a in applications.values()} == {
        country_pb2.Country.Value(f"COUNTRY_{country}") for country in COUNTRIES
    }


async def test_applications_taken_while_nats_is_down_are_published_once_when_it_returns(
    intake: Any, stream: IntakeStream, local_nats: LocalNats, eventually: Eventually, rng: Any
) -> None:
    client = intake.client("analyst")
    before = await create_all(client, requests_across_countries(18, rng))
    await asyncio.to_thread(local_nats.stop)
    try:
        during = await create_all(client, requests_across_countries(18, rng))
        rows_during = await outbox_rows(intake.database_url, [a.name for a in during])
        assert len(rows_during) == len(during)
        assert all(row.published_at is None for row in rows_during)
    finally:
        await asyncio.to_thread(local_nats.start)

    names = [application.name for application in before + during]
    await eventually(lambda: all_published(intake.database_url), 60)
    await eventually(lambda: stream.all_submitted(names), 30)
    messages = await stream.of(names)
    rows = {row.name: row for row in await outbox_rows(intake.database_url)}
    for name in names:
        assert [m.msg_id for m in messages[name]] == [rows[name].event_id], name
    assert all(row.published_at is not None for row in rows.values())


async def test_relay_marks_events_published_only_after_jetstream_acknowledged_them(
    intake: Any,
    stream: IntakeStream,
    local_nats: LocalNats,
    eventually: Eventually,
    rng: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = intake.client("analyst")
    first = await create_all(client, requests_across_countries(6, rng))
    await eventually(lambda: all_published(intake.database_url), 30)  # the relay is connected to NATS

    await asyncio.to_thread(local_nats.stop)
    try:
        caplog.set_level(logging.WARNING, logger="intake.outbox")
        caplog.clear()
        waiting = await create_all(client, requests_across_countries(12, rng))
        # The relay tried to publish them, and JetStream never acknowledged: nothing is marked.
        await eventually(
            lambda: any(r.getMessage() == "outbox relay failed; retrying" for r in caplog.records), 30
        )
        rows = await outbox_rows(intake.database_url, [a.name for a in waiting])
        assert len(rows) == len(waiting)
        assert [row.published_at for row in rows] == [None] * len(rows)
    finally:
        await asyncio.to_thread(local_nats.start)

    await eventually(lambda: all_published(intake.database_url), 60)
    names = [application.name for application in first + waiting]
    messages = {m.msg_id: m for m in (await stream.read()) if m.name in set(names)}
    for row in await outbox_rows(intake.database_url, names):
        stored = messages[row.event_id]  # JetStream holds every event marked published …
        assert row.published_at is not None
        assert stored.stored_at <= row.published_at  # … and held it before the mark


# Order and duplicates -----------------------------------------------------------------------------


async def drive(
    application: application_pb2.Application, outcome: int, scoring: Stub, analyst: Stub
) -> list[tuple[int, int, str]]:
    """Moves one application through its workflow; returns each change as (from, to, etag after)."""
    changes: list[tuple[int, int, str]] = []
    job_id = str(uuid.uuid4())
    name = application.name

    async def step(call: Any, request: Any, before: int) -> application_pb2.Application:
        moved: application_pb2.Application = (await call(request)).application
        changes.append((before, moved.status, moved.etag))
        return moved

    current = await step(
        scoring.StartValidation,
        intake_service_pb2.StartValidationRequest(name=name, job_id=job_id),
        S.APPLICATION_STATUS_PENDING,
    )
    current = await step(
        scoring.RecordDecision, decision_request(application, job_id, outcome), current.status
    )
    if current.status == S.APPLICATION_STATUS_UNDER_REVIEW:
        current = await step(
            analyst.UpdateApplicationStatus,
            intake_service_pb2.UpdateApplicationStatusRequest(
                name=name, status=S.APPLICATION_STATUS_APPROVED, reason="documents checked", etag=current.etag
            ),
            current.status,
        )
    if current.status != S.APPLICATION_STATUS_REJECTED:
        current = await step(
            analyst.CancelApplication,
            intake_service_pb2.CancelApplicationRequest(
                name=name, reason="the applicant withdrew", etag=current.etag
            ),
            current.status,
        )
    return changes


async def test_each_applications_status_changes_arrive_in_the_order_they_happened(
    intake: Any, stream: IntakeStream, eventually: Eventually, rng: Any
) -> None:
    creator = intake.client("analyst")
    scoring = intake.client("service", subject="scoring")
    analyst = intake.client("analyst", subject="analyst-review")
    applications = await create_all(creator, requests_across_countries(24, rng))
    outcomes = (
        decision_pb2.DECISION_OUTCOME_REVIEW,
        decision_pb2.DECISION_OUTCOME_APPROVE,
        decision_pb2.DECISION_OUTCOME_REJECT,
    )
    histories = await asyncio.gather(
        *(
            drive(application, outcomes[i % len(outcomes)], scoring, analyst)
            for i, application in enumerate(applications)
        )
    )
    expected = {
        application.name: history for application, history in zip(applications, histories, strict=True)
    }

    await eventually(lambda: all_published(intake.database_url), 30)
    messages = await stream.of(expected)
    for name, history in expected.items():
        sequence = [m.sequence for m in messages[name]]
        assert sequence == sorted(sequence)
        assert [m.subject for m in messages[name]] == [SUBMITTED] + [STATUS_CHANGED] * len(history)
        changes = [(m.event.old_status, m.event.new_status, m.event.etag) for m in messages[name][1:]]
        assert changes == history, name
        # The pairs chain: each change starts where the previous one ended.
        assert all(a[1] == b[0] for a, b in itertools.pairwise(changes))
    # Every path was taken: review then approval then cancellation, approval then cancellation, rejection.
    validating, review, approved, cancelled, rejected = (
        S.APPLICATION_STATUS_VALIDATING,
        S.APPLICATION_STATUS_UNDER_REVIEW,
        S.APPLICATION_STATUS_APPROVED,
        S.APPLICATION_STATUS_CANCELLED,
        S.APPLICATION_STATUS_REJECTED,
    )
    assert {tuple(to for _, to, _ in history) for history in histories} == {
        (validating, review, approved, cancelled),
        (validating, approved, cancelled),
        (validating, rejected),
    }


async def test_republishing_events_stores_no_duplicate_in_the_stream(
    intake: Any, stream: IntakeStream, eventually: Eventually, rng: Any
) -> None:
    client = intake.client("analyst")
    applications = await create_all(client, requests_across_countries(24, rng))
    names = [application.name for application in applications]
    await eventually(lambda: all_published(intake.database_url), 30)
    await eventually(lambda: stream.all_submitted(names), 30)

    # As if the relay had died after JetStream's ack but before marking: the rows are unpublished again.
    again = names[::2]
    reset_at = datetime.now(UTC)
    published_before = published_total()
    connection = await asyncpg.connect(libpq_url(intake.database_url))
    try:
        await connection.execute(
            "UPDATE outbox_events SET published_at = NULL WHERE application_id = ANY($1::uuid[])",
            [uuid.UUID(name.removeprefix("applications/")) for name in again],
        )
        await connection.execute("SELECT pg_notify($1, '')", Outbox.CHANNEL)
    finally:
        await connection.close()

    async def republished() -> bool:
        rows = await outbox_rows(intake.database_url, again)
        return all(row.published_at is not None and row.published_at > reset_at for row in rows)

    await eventually(republished, 30)
    assert published_total() - published_before >= len(again)  # JetStream acknowledged them again
    messages = await stream.of(names)
    for name in names:
        assert len(messages[name]) == 1, name


# PII ----------------------------------------------------------------------------------------------


async def test_no_event_payload_contains_the_applicants_name_or_document(
    intake: Any, stream: IntakeStream, eventually: Eventually, rng: Any
) -> None:
    creator = intake.client("analyst")
    scoring = intake.client("service", subject="scoring")
    bank = intake.client("service", subject="bank-shim")
    people: list[tuple[str, str]] = []
    requests = []
    for i in range(12):
        country = COUNTRIES[i % len(COUNTRIES)]
        document = "529.982.247-25" if i == 5 else valid_document(country, rng)
        full_name = f"Quintella q{uuid.uuid4().hex[:8]} Vasconcelos"
        request = create_request(country, rng=rng, document=document)
        request.application.applicant.full_name = full_name
        requests.append(request)
        people.append((full_name, document))
    applications = await create_all(creator, requests)
    secrets = {application.name: person for application, person in zip(applications, people, strict=True)}

    occurred = Timestamp()
    occurred.FromDatetime(datetime.now(UTC))

    async def complete(application: application_pb2.Application) -> None:
        job_id = str(uuid.uuid4())
        await scoring.StartValidation(
            intake_service_pb2.StartValidationRequest(name=application.name, job_id=job_id)
        )
        await scoring.RecordDecision(
            decision_request(application, job_id, decision_pb2.DECISION_OUTCOME_APPROVE)
        )
        await bank.RecordBankConfirmation(
            intake_service_pb2.RecordBankConfirmationRequest(
                name=application.name,
                webhook_id=f"wh-{job_id}",
                bank_reference=f"ref-{job_id[:8]}",
                identity_verified=True,
                disbursed=True,
                occur_time=occurred,
                amount_disbursed=application.requested_amount,
            )
        )

    await asyncio.gather(*(complete(application) for application in applications))
    await eventually(lambda: all_published(intake.database_url), 30)

    messages = await stream.of(secrets)
    subjects = set()
    for name, (full_name, document) in secrets.items():
        digits = "".join(c for c in document if c.isdigit())
        forbidden = {full_name, document, document.upper(), digits, *full_name.split()[1:2]}
        assert len(messages[name]) == 5  # submitted, 3 status changes, bank confirmation
        for message in messages[name]:
            subjects.add(message.subject)
            raw = message.data + repr(message.headers).encode()
            for secret in forbidden:
                assert secret.encode() not in raw, (message.subject, name)
    assert subjects == set(EVENT_TYPES)


# Wake-up and leadership ---------------------------------------------------------------------------


async def test_relay_is_woken_by_notify_rather_than_its_safety_poll(
    intake: Any, replica: Any, stream: IntakeStream, eventually: Eventually, rng: Any
) -> None:
    # The fixture's relay would take the lock: stop it so that the slow-polling one below relays.
    await intake.app.stop_relay()
    slow = await replica(outbox_safety_poll_seconds=300.0)
    client = slow.client("analyst")
    for _ in range(3):  # after the first, the relay is surely idle in its 300 s wait
        (created,) = await create_all(client, [create_request("ES", rng=rng)])
        began = time.monotonic()
        await eventually(lambda name=created.name: stream.all_submitted([name]), 2)
        assert time.monotonic() - began < 2


async def test_only_one_of_two_replicas_relays_and_each_event_is_published_once(
    intake: Any, replica: Any, stream: IntakeStream, eventually: Eventually, rng: Any
) -> None:
    other = await replica()
    watcher = await asyncpg.connect(libpq_url(intake.database_url))
    samples: list[int] = []
    done = asyncio.Event()

    async def sample_lock_holders() -> None:
        while not done.is_set():
            samples.append(await relay_lock_holders(watcher))
            await asyncio.sleep(0.01)

    try:
        await eventually(lambda: relay_lock_holders(watcher), 10)
        sampler = asyncio.create_task(sample_lock_holders())
        first = intake.client("analyst")
        second = other.client("analyst")
        created = await asyncio.gather(
            create_all(first, requests_across_countries(30, rng)),
            create_all(second, requests_across_countries(30, rng)),
        )
        names = [application.name for application in created[0] + created[1]]
        await eventually(lambda: all_published(intake.database_url), 30)
        done.set()
        await sampler
    finally:
        done.set()
        await watcher.close()

    assert samples
    assert set(samples) == {1}
    messages = await stream.of(names)
    rows = {row.name: row.event_id for row in await outbox_rows(intake.database_url)}
    for name in names:
        assert [m.msg_id for m in messages[name]] == [rows[name]], name


async def test_another_replica_takes_over_relaying_when_the_relaying_one_stops(
    intake: Any, replica: Any, stream: IntakeStream, eventually: Eventually, rng: Any
) -> None:
    watcher = await asyncpg.connect(libpq_url(intake.database_url))
    try:
        await eventually(lambda: relay_lock_holders(watcher), 10)  # the fixture's app relays
        other = await replica()
        await intake.app.stop_relay()
        await eventually(lambda: relay_lock_holders(watcher), 10)  # now the other one does
        applications = await create_all(other.client("analyst"), requests_across_countries(12, rng))
        names = [application.name for application in applications]
        await eventually(lambda: stream.all_submitted(names), 10)
        await eventually(lambda: all_published(intake.database_url), 10)
    finally:
        await watcher.close()
    messages = await stream.of(names)
    assert all(len(messages[name]) == 1 for name in names)
