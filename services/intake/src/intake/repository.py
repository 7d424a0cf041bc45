"""Persistence of applications in PostgreSQL, behind the few operations the use cases need.

Every method runs on the connection of the caller's transaction (see `Database.transaction`), so a use
case commits all of its writes, and the audit and outbox rows the triggers add, or none of them.
"""

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import ColumnElement, RowMapping, and_, false, func, insert, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from intake.countries import Country
from intake.documents import DocumentType
from intake.domain import (
    BrazilDetails,
    ColombiaDetails,
    Consent,
    ConsentChannel,
    CountryDetails,
    ItalyDetails,
    MexicoDetails,
    PortugalDetails,
    SpainDetails,
    Status,
)
from intake.money import Money
from intake.pii import SealedPii
from intake.records import (
    AuditEntry,
    AuditKind,
    BankConfirmation,
    CreditReport,
    Decision,
    DecisionReason,
    NewApplicationRow,
    OutboxEvent,
    Outcome,
    RecordedDecision,
    RiskLevel,
    RuleEffect,
    StoredApplication,
)
from intake.tables import application_events, applications, bank_confirmations, decisions, outbox_events

_DETAILS_TYPES: Mapping[str, type[CountryDetails]] = {
    cls.__name__: cls
    for cls in (SpainDetails, PortugalDetails, ItalyDetails, MexicoDetails, ColombiaDetails, BrazilDetails)
}


@dataclasses.dataclass(frozen=True)
class ListFilter:
    country: Country | None = None
    status: Status | None = None
    # Set for partners: they see only their own applications.
    partner_id: str | None = None


class ApplicationRepository:
    """Reads and writes applications on one transaction's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def insert(self, row: NewApplicationRow) -> bool:
        """Inserts the application in PENDING; False when its request id or open document is taken."""
        statement = (
            pg_insert(applications)
            .values(
                id=row.id,
                country=row.country.value,
                status=Status.PENDING.value,
                status_actor=row.status_actor,
                status_reason=row.status_reason,
                currency=row.requested_amount.currency,
                requested_amount=row.requested_amount.amount,
                monthly_income=row.monthly_income.amount,
                term_months=row.term_months,
                document_type=row.document_type.value,
                document_blind_index=row.document_blind_index,
                pii_key_id=row.sealed.key_id,
                pii_wrapped_key=row.sealed.wrapped_key,
                full_name_ciphertext=row.sealed.full_name,
                document_ciphertext=row.sealed.document,
                consent_granted_at=row.consent.granted_at,
                consent_channel=row.consent.channel.value,
                consent_reference=row.consent.reference,
                country_details=_details_to_json(row.country_details),
                partner_id=row.partner_id,
                created_by=row.created_by,
                request_id=row.request_id,
                request_fingerprint=row.request_fingerprint,
            )
            .on_conflict_do_nothing()
            .returning(applications.c.id)
        )
        return (await self._connection.execute(statement)).first() is not None

    async def find_by_request_id(self, request_id: UUID) -> tuple[UUID, bytes] | None:
        """The application a request id created, and that request's fingerprint."""
        statement = select(applications.c.id, applications.c.request_fingerprint).where(
            applications.c.request_id == request_id
        )
        row = (await self._connection.execute(statement)).first()
        return None if row is None else (row.id, row.request_fingerprint)

    async def find_open_by_document(self, country: Country, blind_index: bytes) -> UUID | None:
        """The application of this document in this country that is not final, if any."""
        statement = select(applications.c.id).where(
            applications.c.country == country.value,
            applications.c.document_blind_index == blind_index,
            applications.c.status.not_in([s.value for s in _FINAL]),
        )
        return (await self._connection.execute(statement)).scalar_one_or_none()

    async def get(self, application_id: UUID) -> StoredApplication | None:
        statement = _select_applications().where(applications.c.id == application_id)
        row = (await self._connection.execute(statement)).mappings().first()
        if row is None:
            return None
        confirmations = await self._confirmations([application_id])
        return _to_application(row, confirmations.get(application_id, ()))

    async def page(self, where: ListFilter, *, before: UUID | None, limit: int) -> list[StoredApplication]:
        """Applications matching the filter, newest first, with ids below `before` when given."""
        conditions: list[ColumnElement[bool]] = []
        if where.country is not None:
            conditions.append(applications.c.country == where.country.value)
        if where.status is not None:
            conditions.append(applications.c.status == where.status.value)
        if where.partner_id is not None:
            conditions.append(applications.c.partner_id == where.partner_id)
        if before is not None:
            conditions.append(applications.c.id < before)
        statement = (
            _select_applications()
            .where(and_(true(), *conditions))
            .order_by(applications.c.id.desc())
            .limit(limit)
        )
        rows = (await self._connection.execute(statement)).mappings().all()
        confirmations = await self._confirmations([row["id"] for row in rows])
        return [_to_application(row, confirmations.get(row["id"], ())) for row in rows]

    async def change_status(
        self,
        application_id: UUID,
        *,
        expected_version: int,
        status: Status,
        actor: str,
        reason: str,
        scoring_job_id: str | None = None,
    ) -> bool:
        """Moves the application if it is still at `expected_version`; False when it has changed since."""
        values: dict[str, Any] = {"status": status.value, "status_actor": actor, "status_reason": reason}
        if scoring_job_id is not None:
            values["scoring_job_id"] = scoring_job_id
        statement = (
            update(applications)
            .where(applications.c.id == application_id, applications.c.version == expected_version)
            .values(**values)
            .returning(applications.c.id)
        )
        return (await self._connection.execute(statement)).first() is not None

    async def insert_decision(self, application_id: UUID, recorded: RecordedDecision) -> bool:
        """Stores a job's decision; False when that job's decision is already stored."""
        decision, report = recorded.decision, recorded.credit_report
        statement = (
            pg_insert(decisions)
            .values(
                application_id=application_id,
                job_id=recorded.job_id,
                outcome=decision.outcome.value,
                risk_score=decision.risk_score,
                risk_level=decision.risk_level.value,
                reasons=[_reason_to_json(reason) for reason in decision.reasons],
                rule_set_version=decision.rule_set_version,
                decided_at=decision.decided_at,
                report_provider=report.provider,
                report_credit_score=report.credit_score,
                report_currency=report.total_debt.currency,
                report_total_debt=report.total_debt.amount,
                report_monthly_obligations=report.monthly_obligations.amount,
                report_has_defaults=report.has_defaults,
                report_account_age_months=report.account_age_months,
                report_fallback=report.fallback,
                report_id=report.report_id,
                reported_at=report.reported_at,
            )
            .on_conflict_do_nothing(index_elements=[decisions.c.job_id])
            .returning(decisions.c.id)
        )
        return (await self._connection.execute(statement)).first() is not None

    async def find_decision_application(self, job_id: str) -> UUID | None:
        """The application whose decision this job recorded, if it did."""
        statement = select(decisions.c.application_id).where(decisions.c.job_id == job_id)
        return (await self._connection.execute(statement)).scalar_one_or_none()

    async def find_bank_confirmation(self, webhook_id: str) -> tuple[UUID, BankConfirmation] | None:
        statement = select(bank_confirmations).where(bank_confirmations.c.webhook_id == webhook_id)
        row = (await self._connection.execute(statement)).mappings().first()
        return None if row is None else (row["application_id"], _to_confirmation(row))

    async def insert_bank_confirmation(
        self, application_id: UUID, confirmation: BankConfirmation, *, recorded_by: str
    ) -> bool:
        """Stores a confirmation; False when its webhook id is already stored."""
        amount = confirmation.amount_disbursed
        statement = (
            pg_insert(bank_confirmations)
            .values(
                application_id=application_id,
                webhook_id=confirmation.webhook_id,
                bank_reference=confirmation.bank_reference,
                identity_verified=confirmation.identity_verified,
                disbursed=confirmation.disbursed,
                currency=None if amount is None else amount.currency,
                amount_disbursed=None if amount is None else amount.amount,
                occurred_at=confirmation.occurred_at,
                recorded_by=recorded_by,
            )
            .on_conflict_do_nothing(index_elements=[bank_confirmations.c.webhook_id])
            .returning(bank_confirmations.c.id)
        )
        return (await self._connection.execute(statement)).first() is not None

    async def list_audit(self, application_id: UUID, *, after: int, limit: int) -> list[AuditEntry]:
        statement = (
            select(application_events)
            .where(application_events.c.application_id == application_id, application_events.c.id > after)
            .order_by(application_events.c.id)
            .limit(limit)
        )
        rows = (await self._connection.execute(statement)).mappings().all()
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
            insert(application_events).values(
                application_id=application.id,
                kind=AuditKind.PII_REVEALED.value,
                actor=actor,
                from_status=application.status.value,
                to_status=application.status.value,
                reason=reason,
            )
        )

    async def _confirmations(self, ids: Sequence[UUID]) -> dict[UUID, tuple[BankConfirmation, ...]]:
        if not ids:
            return {}
        statement = (
            select(bank_confirmations)
            .where(bank_confirmations.c.application_id.in_(ids))
            .order_by(bank_confirmations.c.id)
        )
        found: dict[UUID, list[BankConfirmation]] = {}
        for row in (await self._connection.execute(statement)).mappings():
            found.setdefault(row["application_id"], []).append(_to_confirmation(row))
        return {key: tuple(value) for key, value in found.items()}


class OutboxStore:
    """The relay's view of the outbox: the oldest unpublished events, and stamping them published."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def unpublished(self, limit: int) -> list[OutboxEvent]:
        statement = (
            select(outbox_events)
            .where(outbox_events.c.published_at.is_(None))
            .order_by(outbox_events.c.id)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(statement)).mappings().all()
        return [
            OutboxEvent(
                id=row["id"],
                event_id=row["event_id"],
                application_id=row["application_id"],
                subject=row["subject"],
                payload=row["payload"],
                created_at=row["created_at"],
            )
            for row in rows
        ]

    async def mark_published(self, ids: Sequence[int]) -> None:
        statement = (
            update(outbox_events)
            .where(outbox_events.c.id.in_(ids), outbox_events.c.published_at.is_(None))
            .values(published_at=func.clock_timestamp())
        )
        async with self._engine.begin() as connection:
            await connection.execute(statement)

    async def backlog(self) -> tuple[int, datetime | None]:
        """How many events wait, and when the oldest was written."""
        statement = select(func.count(), func.min(outbox_events.c.created_at)).where(
            outbox_events.c.published_at.is_(None)
        )
        async with self._engine.connect() as connection:
            count, oldest = (await connection.execute(statement)).one()
        return int(count), oldest


class Database:
    """Hands out repositories bound to one transaction each."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[ApplicationRepository]:
        async with self.engine.begin() as connection:
            yield ApplicationRepository(connection)


_FINAL = (Status.REJECTED, Status.CANCELLED, Status.COMPLETED)

# The latest decision of each application, joined beside it.
_latest_decision = (
    select(decisions)
    .where(decisions.c.application_id == applications.c.id)
    .order_by(decisions.c.id.desc())
    .limit(1)
    .lateral("latest_decision")
)


def _select_applications() -> Any:
    decision_columns = [column.label(f"decision_{column.name}") for column in _latest_decision.c]
    return select(applications, *decision_columns).select_from(
        applications.outerjoin(_latest_decision, true())
    )


def _to_application(row: RowMapping, confirmations: tuple[BankConfirmation, ...]) -> StoredApplication:
    currency = row["currency"]
    wrapped_key = row["pii_wrapped_key"]
    return StoredApplication(
        id=row["id"],
        country=Country(row["country"]),
        status=Status(row["status"]),
        status_reason=row["status_reason"],
        version=row["version"],
        requested_amount=Money(currency, row["requested_amount"]),
        monthly_income=Money(currency, row["monthly_income"]),
        term_months=row["term_months"],
        document_type=DocumentType(row["document_type"]),
        sealed=None
        if wrapped_key is None
        else SealedPii(
            key_id=row["pii_key_id"],
            wrapped_key=wrapped_key,
            full_name=row["full_name_ciphertext"],
            document=row["document_ciphertext"],
        ),
        consent=Consent(
            granted_at=row["consent_granted_at"],
            channel=ConsentChannel(row["consent_channel"]),
            reference=row["consent_reference"],
        ),
        country_details=_details_from_json(row["country_details"]),
        partner_id=row["partner_id"],
        scoring_job_id=row["scoring_job_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        decision=_to_decision(row),
        bank_confirmations=confirmations,
    )


def _to_decision(row: RowMapping) -> RecordedDecision | None:
    if row["decision_id"] is None:
        return None
    currency = row["decision_report_currency"]
    return RecordedDecision(
        job_id=row["decision_job_id"],
        decision=Decision(
            outcome=Outcome(row["decision_outcome"]),
            risk_score=row["decision_risk_score"],
            risk_level=RiskLevel(row["decision_risk_level"]),
            reasons=tuple(_reason_from_json(reason) for reason in row["decision_reasons"]),
            rule_set_version=row["decision_rule_set_version"],
            decided_at=row["decision_decided_at"],
        ),
        credit_report=CreditReport(
            provider=row["decision_report_provider"],
            credit_score=row["decision_report_credit_score"],
            total_debt=Money(currency, row["decision_report_total_debt"]),
            monthly_obligations=Money(currency, row["decision_report_monthly_obligations"]),
            has_defaults=row["decision_report_has_defaults"],
            account_age_months=row["decision_report_account_age_months"],
            fallback=row["decision_report_fallback"],
            report_id=row["decision_report_id"],
            reported_at=row["decision_reported_at"],
        ),
    )


def _to_confirmation(row: RowMapping) -> BankConfirmation:
    currency, amount = row["currency"], row["amount_disbursed"]
    return BankConfirmation(
        webhook_id=row["webhook_id"],
        bank_reference=row["bank_reference"],
        identity_verified=row["identity_verified"],
        disbursed=row["disbursed"],
        amount_disbursed=None if amount is None else Money(currency, amount),
        occurred_at=row["occurred_at"],
        recorded_at=row["created_at"],
    )


def _reason_to_json(reason: DecisionReason) -> dict[str, Any]:
    return {
        "code": reason.code,
        "effect": reason.effect.value,
        "points": reason.points,
        "observed": reason.observed,
        "threshold": reason.threshold,
        "message": reason.message,
        "localized_messages": dict(reason.localized_messages),
    }


def _reason_from_json(data: Mapping[str, Any]) -> DecisionReason:
    return DecisionReason(
        code=data["code"],
        effect=RuleEffect(data["effect"]),
        points=int(data["points"]),
        observed=data["observed"],
        threshold=data["threshold"],
        message=data["message"],
        localized_messages=dict(data.get("localized_messages", {})),
    )


def _details_to_json(details: CountryDetails | None) -> dict[str, Any] | None:
    if details is None:
        return None
    return {"type": type(details).__name__, **dataclasses.asdict(details)}


def _details_from_json(data: Mapping[str, Any] | None) -> CountryDetails | None:
    if data is None:
        return None
    fields = dict(data)
    return _DETAILS_TYPES[fields.pop("type")](**fields)


class OutboxSignal:
    """A dedicated connection that holds the relay's leadership lock and hears the outbox's NOTIFY.

    Only the replica holding the session-level advisory lock relays, so an application's events leave
    in the order they were written. The lock goes with the connection: if it drops, another replica
    takes over.
    """

    CHANNEL = "intake_outbox"
    LOCK_KEY = 7_236_838_217_445_013_876  # any constant shared by every replica of intake

    def __init__(self, database_url: str) -> None:
        self._dsn = plain_database_url(database_url)
        self._connection: asyncpg.Connection | None = None
        self._woken = asyncio.Event()

    @property
    def held(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    async def acquire(self) -> bool:
        """Tries once to become the relaying replica; True when this one is."""
        await self.release()
        connection = await asyncpg.connect(
            self._dsn, server_settings={"application_name": "intake-outbox-relay"}
        )
        try:
            if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", self.LOCK_KEY):
                await connection.close()
                return False
            await connection.add_listener(self.CHANNEL, self._notified)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self._woken.set()  # look at once: events may have been written while nobody relayed
        return True

    async def wait(self, seconds: float) -> None:
        """Returns when events were written since the last call, or after `seconds` (a safety poll)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), seconds)
        self._woken.clear()

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    def _notified(self, *_: object) -> None:
        self._woken.set()


def plain_database_url(url: str) -> str:
    """The libpq form of a SQLAlchemy URL, for asyncpg."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def check_connection(engine: AsyncEngine) -> None:
    """Fails when the database cannot be reached or has no intake schema yet."""
    async with engine.connect() as connection:
        await connection.execute(select(func.count()).select_from(applications).where(false()))
