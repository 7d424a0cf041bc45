"""Persistence of applications in PostgreSQL, behind the few operations the use cases need.

Plain SQL over asyncpg: each statement is prepared once per connection and reused, which keeps a create
to one round trip and a fraction of a millisecond of client CPU. A use case runs its statements on one
connection, in one transaction when it writes more than once (`Database.transaction`); the audit and
outbox rows the triggers add commit or roll back with them.
"""

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import asyncpg

from intake.countries import Country
from intake.domain import Status
from intake.pii import SealedPii
from intake.records import (
    AuditEntry,
    AuditKind,
    BankConfirmation,
    NewApplicationRow,
    RecordedDecision,
    StoredApplication,
)
from intake.rows import application_from_row, confirmation_from_row, details_to_json, reason_to_json
from svckit.db import CONNECTION_ERRORS
from svckit.telemetry import current_traceparent

_FINAL = [Status.REJECTED.value, Status.CANCELLED.value, Status.COMPLETED.value]


class DatabaseUnavailable(Exception):
    """PostgreSQL could not be reached or dropped the connection; the call may be retried."""


@dataclasses.dataclass(frozen=True)
class ListFilter:
    country: Country | None = None
    status: Status | None = None
    # Set for partners: they see only their own applications.
    partner_id: str | None = None


_INSERT_APPLICATION = """
INSERT INTO applications (
    id, country, status, status_actor, status_reason, currency, requested_amount, monthly_income,
    term_months, document_type, document_blind_index, pii_key_id, pii_wrapped_key, full_name_ciphertext,
    document_ciphertext, consent_granted_at, consent_channel, consent_reference, country_details,
    partner_id, created_by, request_id, request_fingerprint, trace_context)
VALUES ($1, $2, 'PENDING', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
        $20, $21, $22, $23)
ON CONFLICT DO NOTHING
RETURNING version, created_at, updated_at
"""

# An application with its latest decision and its bank confirmations, in one statement.
_SELECT_APPLICATIONS = """
SELECT a.*,
       d.id AS decision_id, d.job_id AS decision_job_id, d.outcome AS decision_outcome,
       d.risk_score AS decision_risk_score, d.risk_level AS decision_risk_level,
       d.reasons AS decision_reasons, d.rule_set_version AS decision_rule_set_version,
       d.decided_at AS decision_decided_at, d.report_provider, d.report_credit_score, d.report_currency,
       d.report_total_debt, d.report_monthly_obligations, d.report_has_defaults,
       d.report_account_age_months, d.report_fallback, d.report_id, d.reported_at,
       c.confirmations
FROM applications a
LEFT JOIN LATERAL (
    SELECT * FROM decisions WHERE application_id = a.id ORDER BY id DESC LIMIT 1
) d ON true
LEFT JOIN LATERAL (
    SELECT jsonb_agg(jsonb_build_object(
               'webhook_id', b.webhook_id, 'bank_reference', b.bank_reference,
               'identity_verified', b.identity_verified, 'disbursed', b.disbursed,
               'currency', b.currency, 'amount_disbursed', b.amount_disbursed::text,
               'occurred_at', b.occurred_at, 'recorded_at', b.created_at) ORDER BY b.id) AS confirmations
    FROM bank_confirmations b WHERE b.application_id = a.id
) c ON true
"""

# Every status change also sets why scoring failed (for a move to review after a failed job), or clears it.
# Every status change also clears a pending four-eyes approval: it was for the status it leaves.
_CHANGE_STATUS = """
UPDATE applications
SET status = $3, status_actor = $4, status_reason = $5, scoring_job_id = coalesce($6, scoring_job_id),
    scoring_failure = $7, pending_approval_by = NULL, pending_approval_reason = NULL,
    pending_approval_at = NULL, trace_context = $8
WHERE id = $1 AND version = $2
RETURNING id
"""

_REQUEST_APPROVAL = """
UPDATE applications
SET pending_approval_by = $3, pending_approval_reason = $4, pending_approval_at = now()
WHERE id = $1 AND version = $2 AND pending_approval_by IS NULL
RETURNING id
"""

# Crypto-shredding: without its data key a record's ciphertexts are noise; they, the blind index and the
# keyed request fingerprint go too, so nothing derived from the applicant's data is left.
_ERASE_APPLICANT = """
WITH applicant AS (SELECT country, document_blind_index FROM applications WHERE id = $1)
UPDATE applications a
SET pii_wrapped_key = NULL, full_name_ciphertext = NULL, document_ciphertext = NULL,
    document_blind_index = NULL, request_fingerprint = ''::bytea,
    pii_erased_by = $2, pii_erasure_reason = $3, pii_erased_at = now()
FROM applicant
WHERE (a.id = $1
       OR (a.country = applicant.country AND a.document_blind_index = applicant.document_blind_index))
  AND a.pii_erased_at IS NULL
RETURNING a.id
"""

# The common case of StartValidation in one round trip: take a PENDING application for the job and audit
# that scoring is about to read its document (the reveal row precedes the status change's, same instant).
_START_PENDING = """
WITH started AS (
    UPDATE applications
    SET status = 'VALIDATING', status_actor = $2, status_reason = $3, scoring_job_id = $4,
        scoring_failure = NULL, pending_approval_by = NULL, pending_approval_reason = NULL,
        pending_approval_at = NULL, trace_context = $5
    WHERE id = $1 AND status = 'PENDING'
    RETURNING *
), revealed AS (
    INSERT INTO application_events (application_id, kind, actor, from_status, to_status, reason)
    SELECT id, 'PII_REVEALED', $2, 'VALIDATING', 'VALIDATING', $6 FROM started
)
SELECT * FROM started
"""

# The common case of RecordDecision in one round trip: store the job's decision and move the application
# it is VALIDATING for. The status change's trigger sees the decision (AFTER triggers see the whole
# statement's changes), so the event carries its outcome and score.
_DECIDE_VALIDATING = """
WITH validating AS (
    SELECT id FROM applications
    WHERE id = $1 AND status = 'VALIDATING' AND scoring_job_id = $2 AND currency = $11
    FOR UPDATE
), decided AS (
    INSERT INTO decisions (
        application_id, job_id, outcome, risk_score, risk_level, reasons, rule_set_version, decided_at,
        report_provider, report_credit_score, report_currency, report_total_debt, report_monthly_obligations,
        report_has_defaults, report_account_age_months, report_fallback, report_id, reported_at)
    SELECT validating.id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18
    FROM validating
    ON CONFLICT (job_id) DO NOTHING
    RETURNING application_id
), moved AS (
    UPDATE applications a
    SET status = $19, status_actor = $20, status_reason = $21, scoring_failure = NULL,
        pending_approval_by = NULL, pending_approval_reason = NULL, pending_approval_at = NULL,
        trace_context = $22
    FROM decided
    WHERE a.id = decided.application_id
    RETURNING a.*
)
SELECT moved.*,
       (SELECT jsonb_agg(jsonb_build_object(
                   'webhook_id', b.webhook_id, 'bank_reference', b.bank_reference,
                   'identity_verified', b.identity_verified, 'disbursed', b.disbursed,
                   'currency', b.currency, 'amount_disbursed', b.amount_disbursed::text,
                   'occurred_at', b.occurred_at, 'recorded_at', b.created_at) ORDER BY b.id)
        FROM bank_confirmations b WHERE b.application_id = moved.id) AS confirmations
FROM moved
"""

_INSERT_DECISION = """
INSERT INTO decisions (
    application_id, job_id, outcome, risk_score, risk_level, reasons, rule_set_version, decided_at,
    report_provider, report_credit_score, report_currency, report_total_debt, report_monthly_obligations,
    report_has_defaults, report_account_age_months, report_fallback, report_id, reported_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
ON CONFLICT (job_id) DO NOTHING
RETURNING id
"""

_INSERT_BANK_CONFIRMATION = """
INSERT INTO bank_confirmations (
    application_id, webhook_id, bank_reference, identity_verified, disbursed, currency, amount_disbursed,
    occurred_at, recorded_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (webhook_id) DO NOTHING
RETURNING id
"""


class ApplicationRepository:
    """Reads and writes applications on one connection (and its transaction, if one is open)."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def insert(self, row: NewApplicationRow) -> StoredApplication | None:
        """Inserts the application in PENDING, with its audit and outbox rows (the triggers'), in one
        statement; None when its request id or its open document is taken."""
        inserted = await self._connection.fetchrow(
            _INSERT_APPLICATION,
            row.id,
            row.country.value,
            row.status_actor,
            row.status_reason,
            row.requested_amount.currency,
            row.requested_amount.amount,
            row.monthly_income.amount,
            row.term_months,
            row.document_type.value,
            row.document_blind_index,
            row.sealed.key_id,
            row.sealed.wrapped_key,
            row.sealed.full_name,
            row.sealed.document,
            row.consent.granted_at,
            row.consent.channel.value,
            row.consent.reference,
            details_to_json(row.country_details),
            row.partner_id,
            row.created_by,
            row.request_id,
            row.request_fingerprint,
            current_traceparent(),
        )
        if inserted is None:
            return None
        return StoredApplication(
            id=row.id,
            country=row.country,
            status=Status.PENDING,
            status_reason=row.status_reason,
            version=inserted["version"],
            requested_amount=row.requested_amount,
            monthly_income=row.monthly_income,
            term_months=row.term_months,
            document_type=row.document_type,
            sealed=row.sealed,
            consent=row.consent,
            country_details=row.country_details,
            partner_id=row.partner_id,
            scoring_job_id=None,
            scoring_failure=None,
            created_at=inserted["created_at"],
            updated_at=inserted["updated_at"],
        )

    async def find_by_request_id(self, request_id: UUID) -> tuple[UUID, bytes] | None:
        """The application a request id created, and that request's fingerprint."""
        row = await self._connection.fetchrow(
            "SELECT id, request_fingerprint FROM applications WHERE request_id = $1", request_id
        )
        return None if row is None else (row["id"], row["request_fingerprint"])

    async def find_open_by_document(self, country: Country, blind_index: bytes) -> UUID | None:
        """The application of this document in this country that is not final, if any."""
        found: UUID | None = await self._connection.fetchval(
            "SELECT id FROM applications "
            "WHERE country = $1 AND document_blind_index = $2 AND status <> ALL($3::text[])",
            country.value,
            blind_index,
            _FINAL,
        )
        return found

    async def get(self, application_id: UUID) -> StoredApplication | None:
        row = await self._connection.fetchrow(_SELECT_APPLICATIONS + "WHERE a.id = $1", application_id)
        return None if row is None else application_from_row(row)

    async def page(self, where: ListFilter, *, before: UUID | None, limit: int) -> list[StoredApplication]:
        """Applications matching the filter, newest first, with ids below `before` when given."""
        conditions: list[str] = []
        arguments: list[Any] = []
        for column, value in (
            ("a.country", None if where.country is None else where.country.value),
            ("a.status", None if where.status is None else where.status.value),
            ("a.partner_id", where.partner_id),
        ):
            if value is not None:
                arguments.append(value)
                conditions.append(f"{column} = ${len(arguments)}")
        if before is not None:
            arguments.append(before)
            conditions.append(f"a.id < ${len(arguments)}")
        arguments.append(limit)
        # Only column names and placeholder numbers vary, so each shape is prepared once.
        where_clause = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        statement = f"{_SELECT_APPLICATIONS}{where_clause}ORDER BY a.id DESC LIMIT ${len(arguments)}"
        rows = await self._connection.fetch(statement, *arguments)
        return [application_from_row(row) for row in rows]

    async def change_status(
        self,
        application_id: UUID,
        *,
        expected_version: int,
        status: Status,
        actor: str,
        reason: str,
        scoring_job_id: str | None = None,
        scoring_failure: str | None = None,
    ) -> bool:
        """Moves the application if it is still at `expected_version`; False when it has changed since."""
        changed = await self._connection.fetchval(
            _CHANGE_STATUS,
            application_id,
            expected_version,
            status.value,
            actor,
            reason,
            scoring_job_id,
            scoring_failure,
            current_traceparent(),
        )
        return changed is not None

    async def request_approval(
        self, application_id: UUID, *, expected_version: int, requested_by: str, reason: str
    ) -> bool:
        """Records a first four-eyes approval; False when the application changed since it was read."""
        recorded = await self._connection.fetchval(
            _REQUEST_APPROVAL, application_id, expected_version, requested_by, reason
        )
        return recorded is not None

    async def erase_applicant(self, application_id: UUID, *, erased_by: str, reason: str) -> list[UUID]:
        """Erases the personal data of the application's applicant in each of their applications of the
        same country; returns the applications erased now (none when it was done before)."""
        rows = await self._connection.fetch(_ERASE_APPLICANT, application_id, erased_by, reason)
        return [row["id"] for row in rows]

    async def sealed_under_other_keys(
        self, current_key_id: str, *, after: UUID | None, limit: int
    ) -> list[tuple[UUID, SealedPii]]:
        """Records whose data key is wrapped under another key than `current_key_id`, by id."""
        rows = await self._connection.fetch(
            "SELECT id, pii_key_id, pii_wrapped_key, full_name_ciphertext, document_ciphertext "
            "FROM applications WHERE pii_key_id <> $1 AND pii_wrapped_key IS NOT NULL "
            "AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3",
            current_key_id,
            after,
            limit,
        )
        return [
            (
                row["id"],
                SealedPii(
                    row["pii_key_id"],
                    row["pii_wrapped_key"],
                    row["full_name_ciphertext"],
                    row["document_ciphertext"],
                ),
            )
            for row in rows
        ]

    async def replace_wrapped_key(self, application_id: UUID, old: SealedPii, new: SealedPii) -> bool:
        """Swaps in a re-wrapped data key, unless the record changed meanwhile (erased, say)."""
        replaced = await self._connection.fetchval(
            "UPDATE applications SET pii_key_id = $4, pii_wrapped_key = $5 "
            "WHERE id = $1 AND pii_key_id = $2 AND pii_wrapped_key = $3 RETURNING id",
            application_id,
            old.key_id,
            old.wrapped_key,
            new.key_id,
            new.wrapped_key,
        )
        return replaced is not None

    async def start_pending(
        self, application_id: UUID, *, job_id: str, actor: str, reason: str, reveal_reason: str
    ) -> StoredApplication | None:
        """Moves a PENDING application to VALIDATING for `job_id`, auditing the reveal of its document;
        None when it is not PENDING (the caller then looks closer)."""
        row = await self._connection.fetchrow(
            _START_PENDING, application_id, actor, reason, job_id, current_traceparent(), reveal_reason
        )
        return None if row is None else application_from_row(row)

    async def decide_validating(
        self, application_id: UUID, recorded: RecordedDecision, *, status: Status, actor: str, reason: str
    ) -> StoredApplication | None:
        """Records the decision and moves the application VALIDATING→`status`, if it is VALIDATING for the
        decision's job in the report's currency and the job decided nothing yet; None otherwise."""
        decision, report = recorded.decision, recorded.credit_report
        row = await self._connection.fetchrow(
            _DECIDE_VALIDATING,
            application_id,
            recorded.job_id,
            decision.outcome.value,
            decision.risk_score,
            decision.risk_level.value,
            [reason_to_json(reason) for reason in decision.reasons],
            decision.rule_set_version,
            decision.decided_at,
            report.provider,
            report.credit_score,
            report.total_debt.currency,
            report.total_debt.amount,
            report.monthly_obligations.amount,
            report.has_defaults,
            report.account_age_months,
            report.fallback,
            report.report_id,
            report.reported_at,
            status.value,
            actor,
            reason,
            current_traceparent(),
        )
        return None if row is None else dataclasses.replace(application_from_row(row), decision=recorded)

    async def insert_decision(self, application_id: UUID, recorded: RecordedDecision) -> bool:
        """Stores a job's decision; False when that job's decision is already stored."""
        decision, report = recorded.decision, recorded.credit_report
        inserted = await self._connection.fetchval(
            _INSERT_DECISION,
            application_id,
            recorded.job_id,
            decision.outcome.value,
            decision.risk_score,
            decision.risk_level.value,
            [reason_to_json(reason) for reason in decision.reasons],
            decision.rule_set_version,
            decision.decided_at,
            report.provider,
            report.credit_score,
            report.total_debt.currency,
            report.total_debt.amount,
            report.monthly_obligations.amount,
            report.has_defaults,
            report.account_age_months,
            report.fallback,
            report.report_id,
            report.reported_at,
        )
        return inserted is not None

    async def find_decision_application(self, job_id: str) -> UUID | None:
        """The application whose decision this job recorded, if it did."""
        found: UUID | None = await self._connection.fetchval(
            "SELECT application_id FROM decisions WHERE job_id = $1", job_id
        )
        return found

    async def find_bank_confirmation(self, webhook_id: str) -> tuple[UUID, BankConfirmation] | None:
        row = await self._connection.fetchrow(
            "SELECT application_id, webhook_id, bank_reference, identity_verified, disbursed, currency, "
            "amount_disbursed::text AS amount_disbursed, occurred_at, created_at AS recorded_at "
            "FROM bank_confirmations WHERE webhook_id = $1",
            webhook_id,
        )
        return None if row is None else (row["application_id"], confirmation_from_row(row))

    async def insert_bank_confirmation(
        self, application_id: UUID, confirmation: BankConfirmation, *, recorded_by: str
    ) -> bool:
        """Stores a confirmation; False when its webhook id is already stored."""
        amount = confirmation.amount_disbursed
        inserted = await self._connection.fetchval(
            _INSERT_BANK_CONFIRMATION,
            application_id,
            confirmation.webhook_id,
            confirmation.bank_reference,
            confirmation.identity_verified,
            confirmation.disbursed,
            None if amount is None else amount.currency,
            None if amount is None else amount.amount,
            confirmation.occurred_at,
            recorded_by,
        )
        return inserted is not None

    async def list_audit(self, application_id: UUID, *, after: int, limit: int) -> list[AuditEntry]:
        rows = await self._connection.fetch(
            "SELECT id, kind, actor, from_status, to_status, reason, occurred_at FROM application_events "
            "WHERE application_id = $1 AND id > $2 ORDER BY id LIMIT $3",
            application_id,
            after,
            limit,
        )
        return [
            AuditEntry(
                sequence=row["id"],
                kind=AuditKind(row["kind"]),
                actor=row["actor"],
                from_status=None if row["from_status"] is None else Status(row["from_status"]),
                to_status=None if row["to_status"] is None else Status(row["to_status"]),
                reason=row["reason"],
                occurred_at=row["occurred_at"],
            )
            for row in rows
        ]

    async def record_pii_reveal(self, application: StoredApplication, *, actor: str, reason: str) -> None:
        """Audits a read of the identity document in clear (no row changes, so no trigger does it)."""
        await self._connection.execute(
            "INSERT INTO application_events (application_id, kind, actor, from_status, to_status, reason) "
            "VALUES ($1, 'PII_REVEALED', $2, $3, $3, $4)",
            application.id,
            actor,
            application.status.value,
            reason,
        )


class Database:
    """Hands out repositories on pooled connections."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[ApplicationRepository]:
        """A repository whose statements commit together when the block ends, or not at all."""
        async with (
            _unavailable_on_connection_loss(),
            self.pool.acquire() as connection,
            connection.transaction(),
        ):
            yield ApplicationRepository(connection)

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[ApplicationRepository]:
        """A repository whose statements each commit on their own: for single-statement use cases."""
        async with _unavailable_on_connection_loss(), self.pool.acquire() as connection:
            yield ApplicationRepository(connection)


@contextlib.asynccontextmanager
async def _unavailable_on_connection_loss() -> AsyncIterator[None]:
    try:
        yield
    except CONNECTION_ERRORS as error:
        raise DatabaseUnavailable(type(error).__name__) from error


async def check_connection(pool: asyncpg.Pool) -> None:
    """Fails when the database cannot be reached or has no intake schema yet."""
    await pool.fetchval("SELECT count(*) FROM applications WHERE false")
