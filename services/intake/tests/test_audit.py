"""The audit trail (SPEC §4, §5): ListApplicationEvents tells who did what, when, from which status to
which and why, oldest first; the database keeps it append-only and writes it, with the outbox row, for
every status change however it is made."""

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from globalcredit.intake.v1 import application_pb2, intake_service_pb2
from globalcredit.type.v1 import credit_report_pb2, decision_pb2, money_pb2
from samples.applications import create_request
from svckit.db import libpq_url
from svckit.errors import error_details

S = application_pb2
K = application_pb2  # audit kinds: K.AUDIT_EVENT_KIND_CREATED, …
Stub = Any  # IntakeServiceStub


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
            rule_set_version="es-2026.1",
        ),
        credit_report=credit_report_pb2.CreditReport(
            provider="test-bureau",
            total_debt=money_pb2.Money(currency_code=currency, amount="1000.00"),
            monthly_obligations=money_pb2.Money(currency_code=currency, amount="100.00"),
            account_age_months=48,
            report_id=f"report-{job_id}",
        ),
    )


def timestamp(moment: datetime) -> Timestamp:
    result = Timestamp()
    result.FromDatetime(moment)
    return result


async def trail(client: Stub, name: str, page_size: int = 0) -> list[list[application_pb2.AuditEvent]]:
    """Every page of an application's trail."""
    pages: list[list[application_pb2.AuditEvent]] = []
    token = ""
    while True:
        response = await client.ListApplicationEvents(
            intake_service_pb2.ListApplicationEventsRequest(name=name, page_size=page_size, page_token=token)
        )
        pages.append(list(response.events))
        token = response.next_page_token
        if not token:
            return pages


def described(event: application_pb2.AuditEvent) -> tuple[str, str, str, str, str]:
    return (
        K.AuditEventKind.Name(event.kind).removeprefix("AUDIT_EVENT_KIND_"),
        event.actor,
        S.ApplicationStatus.Name(event.from_status).removeprefix("APPLICATION_STATUS_"),
        S.ApplicationStatus.Name(event.to_status).removeprefix("APPLICATION_STATUS_"),
        event.reason,
    )


async def completed_application(
    intake: Any,
) -> tuple[application_pb2.Application, list[application_pb2.Application]]:
    """An application taken by every kind of actor from creation to COMPLETED, then read in full; returns
    it as created and the answer of every step."""
    creator = intake.client("analyst", subject="analyst-ana")
    scoring = intake.client("service", subject="scoring-svc")
    reviewer = intake.client("analyst", subject="analyst-rui")
    bank = intake.client("service", subject="bank-shim")
    reader = intake.client("analyst", subject="analyst-pia", permissions=("pii:read",))
    created = (await creator.CreateApplication(create_request("ES"))).application
    name, job_id = created.name, "job-7"
    steps = [
        (
            await scoring.StartValidation(intake_service_pb2.StartValidationRequest(name=name, job_id=job_id))
        ).application
    ]
    steps.append(
        (
            await scoring.RecordDecision(
                decision_request(created, job_id, decision_pb2.DECISION_OUTCOME_REVIEW)
            )
        ).application
    )
    steps.append(
        (
            await reviewer.UpdateApplicationStatus(
                intake_service_pb2.UpdateApplicationStatusRequest(
                    name=name,
                    status=S.APPLICATION_STATUS_APPROVED,
                    reason="income verified by phone",
                    etag=steps[-1].etag,
                )
            )
        ).application
    )
    steps.append(
        (
            await bank.RecordBankConfirmation(
                intake_service_pb2.RecordBankConfirmationRequest(
                    name=name,
                    webhook_id="wh-77",
                    bank_reference="BANK-77",
                    identity_verified=True,
                    disbursed=True,
                    occur_time=timestamp(datetime.now(UTC)),
                )
            )
        ).application
    )
    steps.append(
        (
            await reader.GetApplication(
                intake_service_pb2.GetApplicationRequest(name=name, view=S.APPLICATION_VIEW_FULL)
            )
        ).application
    )
    return created, steps


async def test_the_trail_lists_every_change_oldest_first_with_actor_statuses_and_reason(intake: Any) -> None:
    began = datetime.now(UTC)
    created, steps = await completed_application(intake)
    ended = datetime.now(UTC)

    (events,) = await trail(intake.client("analyst"), created.name)

    review = "REVIEW by rule set es-2026.1, risk score 42.50"
    completion = "bank BANK-77: identity verified, funds disbursed"
    assert [described(event) for event in events] == [
        ("CREATED", "analyst-ana", "UNSPECIFIED", "PENDING", "submitted"),
        # Taking the job and reading the document are one statement; the reveal is recorded first.
        ("PII_REVEALED", "scoring-svc", "VALIDATING", "VALIDATING", "scoring job job-7"),
        ("STATUS_CHANGED", "scoring-svc", "PENDING", "VALIDATING", "scoring job job-7 started"),
        ("STATUS_CHANGED", "scoring-svc", "VALIDATING", "UNDER_REVIEW", review),
        ("STATUS_CHANGED", "analyst-rui", "UNDER_REVIEW", "APPROVED", "income verified by phone"),
        ("BANK_CONFIRMATION_RECORDED", "bank-shim", "APPROVED", "APPROVED", "bank reference BANK-77"),
        ("STATUS_CHANGED", "bank-shim", "APPROVED", "COMPLETED", completion),
        ("PII_REVEALED", "analyst-pia", "COMPLETED", "COMPLETED", "document revealed"),
    ]
    sequences = [event.sequence for event in events]
    assert sequences == sorted(set(sequences))
    times = [event.occur_time.ToDatetime(tzinfo=UTC) for event in events]
    assert times == sorted(times)
    assert began <= times[0]
    assert times[-1] <= ended
    assert events[0].occur_time == created.create_time
    assert events[6].occur_time == steps[-1].update_time  # the last status change


async def test_the_trail_pages_oldest_first_without_gaps_or_repeats(intake: Any) -> None:
    created, _ = await completed_application(intake)
    client = intake.client("analyst")
    (everything,) = await trail(client, created.name, page_size=100)

    pages = await trail(client, created.name, page_size=3)

    assert [len(page) for page in pages] == [3, 3, 2]
    assert [event for page in pages for event in page] == everything


async def test_a_trail_page_token_is_refused_for_another_application(intake: Any) -> None:
    client = intake.client("analyst")
    first, second = [(await client.CreateApplication(create_request("PT"))).application for _ in range(2)]
    for application in (first, second):
        await client.CancelApplication(
            intake_service_pb2.CancelApplicationRequest(
                name=application.name, reason="applicant withdrew", etag=application.etag
            )
        )
    page = await client.ListApplicationEvents(
        intake_service_pb2.ListApplicationEventsRequest(name=first.name, page_size=1)
    )
    assert page.next_page_token

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.ListApplicationEvents(
            intake_service_pb2.ListApplicationEventsRequest(
                name=second.name, page_size=1, page_token=page.next_page_token
            )
        )
    refused = error_details(caught.value)
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in refused.violations] == ["page_token"]


async def test_the_audit_table_refuses_updates_deletes_and_truncation(intake: Any) -> None:
    client = intake.client("analyst")
    created = (await client.CreateApplication(create_request("IT"))).application
    application_id = uuid.UUID(created.name.removeprefix("applications/"))
    connection = await asyncpg.connect(libpq_url(intake.database_url))
    try:
        before = [dict(row) for row in await connection.fetch("SELECT * FROM application_events ORDER BY id")]
        assert len(before) == 1

        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await connection.execute("UPDATE application_events SET reason = 'nothing happened'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await connection.execute(
                "UPDATE application_events SET actor = 'someone else' WHERE application_id = $1",
                application_id,
            )
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await connection.execute(
                "DELETE FROM application_events WHERE application_id = $1", application_id
            )
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await connection.execute("DELETE FROM application_events")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await connection.execute("TRUNCATE application_events CASCADE")

        after = [dict(row) for row in await connection.fetch("SELECT * FROM application_events ORDER BY id")]
    finally:
        await connection.close()
    assert after == before


async def test_a_status_change_made_by_raw_sql_still_writes_its_audit_and_outbox_rows(intake: Any) -> None:
    client = intake.client("analyst", subject="analyst-ana")
    created = (await client.CreateApplication(create_request("BR"))).application
    application_id = uuid.UUID(created.name.removeprefix("applications/"))
    connection = await asyncpg.connect(libpq_url(intake.database_url))
    try:
        for status, reason in (("VALIDATING", "manual start"), ("REJECTED", "manual rejection")):
            await connection.execute(
                "UPDATE applications SET status = $2, status_actor = 'dba-ops', status_reason = $3 "
                "WHERE id = $1",
                application_id,
                status,
                reason,
            )
        audit = await connection.fetch(
            "SELECT kind, actor, from_status, to_status, reason FROM application_events "
            "WHERE application_id = $1 ORDER BY id",
            application_id,
        )
        outbox = await connection.fetch(
            "SELECT subject, payload->>'old_status' AS old, payload->>'new_status' AS new, "
            "payload->>'version' AS version FROM outbox_events WHERE application_id = $1 ORDER BY id",
            application_id,
        )
    finally:
        await connection.close()

    assert [tuple(row) for row in audit] == [
        ("CREATED", "analyst-ana", None, "PENDING", "submitted"),
        ("STATUS_CHANGED", "dba-ops", "PENDING", "VALIDATING", "manual start"),
        ("STATUS_CHANGED", "dba-ops", "VALIDATING", "REJECTED", "manual rejection"),
    ]
    assert [tuple(row) for row in outbox] == [
        ("intake.application.submitted", None, None, None),
        ("intake.application.status_changed", "PENDING", "VALIDATING", "2"),
        ("intake.application.status_changed", "VALIDATING", "REJECTED", "3"),
    ]
    (events,) = await trail(client, created.name)
    assert [described(event)[2:4] for event in events] == [
        ("UNSPECIFIED", "PENDING"),
        ("PENDING", "VALIDATING"),
        ("VALIDATING", "REJECTED"),
    ]
