"""Intake's use cases: create, read, list and move applications, record decisions and bank confirmations.

Each use case runs in one database transaction; the triggers add the audit and outbox rows to it.
Concurrent changes are detected by the version (etag) and never applied twice.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar
from uuid import UUID

from intake.countries import requires_four_eyes
from intake.documents import mask_document
from intake.domain import (
    Actor,
    ApplicationDraft,
    NewApplication,
    Status,
    bank_outcome,
    check_transition,
    reason_required,
    validate_application,
)
from intake.errors import (
    ApplicationInvalid,
    ApplicationNotFound,
    DuplicateApplication,
    EtagMismatch,
    InvalidStatusTransition,
    PiiReadNotPermitted,
    RequestIdReused,
    SecondApproverRequired,
    TransitionNotPermitted,
    Violation,
    WebhookIdReused,
)
from intake.pii import PiiCipher, PiiUnavailable
from intake.records import (
    STATUS_BY_OUTCOME,
    AuditEntry,
    BankConfirmation,
    NewApplicationRow,
    RecordedDecision,
    StoredApplication,
)
from intake.repository import ApplicationRepository, Database, ListFilter
from svckit import paging
from svckit.auth import Principal
from svckit.ids import uuid7

PII_READ = "pii:read"
# The status reason of an application that scoring could not decide (SPEC §5).
SCORING_FAILED = "SCORING_FAILED"
ANALYST_ROLES = frozenset({"analyst", "senior_analyst", "admin"})
SERVICE_ROLE = "service"
PARTNER_ROLE = "partner"

T = TypeVar("T")

# How often a use case without an etag (scoring, bank) retries after losing a race on the version.
_VERSION_RACE_ATTEMPTS = 5


@dataclass(frozen=True)
class ApplicationView:
    """An application as a caller may see it: the name in clear, the document masked unless revealed."""

    application: StoredApplication
    full_name: str
    identity_document: str


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_page_token: str


class _LostRace(Exception):
    """The application changed between our read and our write: the transaction is rolled back."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class IntakeService:
    def __init__(
        self, database: Database, cipher: PiiCipher, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self._database = database
        self._cipher = cipher
        self._clock = clock

    async def create(
        self, draft: ApplicationDraft, *, request_id: UUID, caller: Principal
    ) -> ApplicationView:
        new = validate_application(draft, now=self._clock())
        fingerprint = self._cipher.keyed_digest(_fingerprint_source(new, caller))
        application_id = uuid7()
        row = NewApplicationRow(
            id=application_id,
            country=new.country,
            status_actor=caller.subject,
            status_reason="submitted",
            requested_amount=new.requested_amount,
            monthly_income=new.monthly_income,
            term_months=new.term_months,
            document_type=new.document.type,
            document_blind_index=self._cipher.blind_index(new.country.value, new.document.number),
            sealed=self._cipher.seal(application_id, new.full_name, new.document.number),
            consent=new.consent,
            country_details=new.country_details,
            partner_id=caller.partner_id if caller.has_any_role(PARTNER_ROLE) else None,
            created_by=caller.subject,
            request_id=request_id,
            request_fingerprint=fingerprint,
        )
        # One statement in the common case. A conflict on a unique index writes nothing; a conflicting
        # application that became final between our insert and our look-up lets the next attempt in.
        for _ in range(_VERSION_RACE_ATTEMPTS):
            async with self._database.connection() as repository:
                inserted = await repository.insert(row)
                if inserted is not None:
                    return self._view(inserted, reveal=False)
                earlier = await repository.find_by_request_id(request_id)
                if earlier is not None:
                    earlier_id, earlier_fingerprint = earlier
                    if earlier_fingerprint != fingerprint:
                        raise RequestIdReused()
                    return self._view(await self._require(repository, earlier_id, caller), reveal=False)
                existing = await repository.find_open_by_document(new.country, row.document_blind_index)
                if existing is not None:
                    raise DuplicateApplication(f"applications/{existing}")
        raise DuplicateApplication("")

    async def get(self, application_id: UUID, *, caller: Principal, reveal: bool = False) -> ApplicationView:
        if reveal and not caller.has_permission(PII_READ):
            raise PiiReadNotPermitted()
        if not reveal:
            async with self._database.connection() as repository:
                return self._view(await self._require(repository, application_id, caller), reveal=False)
        async with self._database.transaction() as repository:
            application = await self._require(repository, application_id, caller)
            await repository.record_pii_reveal(application, actor=caller.subject, reason="document revealed")
        return self._view(application, reveal=True)

    async def list_applications(
        self, where: ListFilter, *, page_size: int, page_token: str, caller: Principal
    ) -> Page[ApplicationView]:
        if caller.has_any_role(PARTNER_ROLE) and not caller.has_any_role(*ANALYST_ROLES, SERVICE_ROLE):
            where = ListFilter(country=where.country, status=where.status, partner_id=caller.partner_id or "")
        size = paging.page_size(page_size)
        scope = paging.scope_of(where.country, where.status, where.partner_id)
        token = paging.decode(page_token, scope=scope)
        before = None if token is None else _uuid_position(token.position)
        async with self._database.connection() as repository:
            # One more than asked tells whether another page follows, without a count.
            found = await repository.page(where, before=before, limit=size + 1)
        items = found[:size]
        next_token = ""
        if len(found) > size:
            next_token = paging.encode(paging.PageToken(position=str(items[-1].id), scope=scope))
        return Page([self._view(application, reveal=False) for application in items], next_token)

    async def change_status(
        self, application_id: UUID, *, target: Status, reason: str, etag: str, caller: Principal
    ) -> ApplicationView:
        reason = reason_required(reason)
        async with self._database.transaction() as repository:
            application = await self._require(repository, application_id, caller)
            if etag != application.etag:
                raise EtagMismatch()
            _check_transition_for(application.status, target, _actors_of(caller, target))
            if _needs_four_eyes(application, target):
                pending = application.pending_approval
                if pending is None:
                    # The first approval waits, under review, for a second analyst.
                    if not await repository.request_approval(
                        application.id,
                        expected_version=application.version,
                        requested_by=caller.subject,
                        reason=reason,
                    ):
                        raise EtagMismatch()
                    return self._view(await self._require(repository, application_id, caller), reveal=False)
                if pending.requested_by == caller.subject:
                    raise SecondApproverRequired()
                reason = (
                    f"{reason} (four eyes: approved by {pending.requested_by}, confirmed by {caller.subject})"
                )
            if not await repository.change_status(
                application.id,
                expected_version=application.version,
                status=target,
                actor=caller.subject,
                reason=reason,
            ):
                raise EtagMismatch()
            return self._view(await self._require(repository, application_id, caller), reveal=False)

    async def list_audit(
        self, application_id: UUID, *, page_size: int, page_token: str, caller: Principal
    ) -> Page[AuditEntry]:
        size = paging.page_size(page_size)
        scope = paging.scope_of(application_id)
        token = paging.decode(page_token, scope=scope)
        after = 0 if token is None else _int_position(token.position)
        async with self._database.connection() as repository:
            await self._require(repository, application_id, caller)
            found = await repository.list_audit(application_id, after=after, limit=size + 1)
        items = found[:size]
        next_token = ""
        if len(found) > size:
            next_token = paging.encode(paging.PageToken(position=str(items[-1].sequence), scope=scope))
        return Page(items, next_token)

    async def record_bank_confirmation(
        self, application_id: UUID, confirmation: BankConfirmation, *, caller: Principal
    ) -> ApplicationView:
        for _ in range(_VERSION_RACE_ATTEMPTS):
            try:
                return await self._record_bank_confirmation(application_id, confirmation, caller)
            except _LostRace:
                continue
        raise EtagMismatch()

    async def _record_bank_confirmation(
        self, application_id: UUID, confirmation: BankConfirmation, caller: Principal
    ) -> ApplicationView:
        async with self._database.transaction() as repository:
            earlier = await repository.find_bank_confirmation(confirmation.webhook_id)
            if earlier is not None:
                earlier_application, earlier_confirmation = earlier
                if earlier_application != application_id or not _same_confirmation(
                    earlier_confirmation, confirmation
                ):
                    raise WebhookIdReused()
                return self._view(await self._require(repository, application_id, caller), reveal=False)
            application = await self._require(repository, application_id, caller)
            _check_currency(application, confirmation)
            if not await repository.insert_bank_confirmation(
                application.id, confirmation, recorded_by=caller.subject
            ):
                raise _LostRace  # a concurrent delivery of the same webhook won: answer as a redelivery
            target = bank_outcome(
                application.status,
                identity_verified=confirmation.identity_verified,
                disbursed=confirmation.disbursed,
            )
            if target is not None:
                check_transition(application.status, target, Actor.BANK)
                moved = await repository.change_status(
                    application.id,
                    expected_version=application.version,
                    status=target,
                    actor=caller.subject,
                    reason=_bank_reason(confirmation),
                )
                if not moved:
                    # Roll the whole confirmation back and apply it to the application's new state.
                    raise _LostRace
            return self._view(await self._require(repository, application_id, caller), reveal=False)

    async def start_validation(
        self, application_id: UUID, *, job_id: str, caller: Principal
    ) -> ApplicationView:
        for _ in range(_VERSION_RACE_ATTEMPTS):
            try:
                return await self._start_validation(application_id, job_id, caller)
            except _LostRace:
                continue
        raise EtagMismatch()

    async def _start_validation(
        self, application_id: UUID, job_id: str, caller: Principal
    ) -> ApplicationView:
        async with self._database.connection() as repository:
            started = await repository.start_pending(
                application_id,
                job_id=job_id,
                actor=caller.subject,
                reason=f"scoring job {job_id} started",
                reveal_reason=f"scoring job {job_id}",
            )
        # Only the service role may call this (the access policy), and it sees every application.
        if started is not None:
            return self._view(started, reveal=True)
        # Not PENDING: a repeat, a resumed job, or a job that is over.
        async with self._database.transaction() as repository:
            application = await self._require(repository, application_id, caller)
            same_job = application.scoring_job_id == job_id
            if same_job and application.status is Status.VALIDATING:
                await repository.record_pii_reveal(
                    application, actor=caller.subject, reason=f"scoring job {job_id}"
                )
                return self._view(application, reveal=True)
            if same_job and application.status is Status.UNDER_REVIEW and application.scoring_failure:
                # The workflow's one move back: a replayed job resumes the review its own failure caused.
                reason = f"scoring job {job_id} resumed"
            else:
                check_transition(application.status, Status.VALIDATING, Actor.SCORING)
                reason = f"scoring job {job_id} started"
            if await repository.change_status(
                application.id,
                expected_version=application.version,
                status=Status.VALIDATING,
                actor=caller.subject,
                reason=reason,
                scoring_job_id=job_id,
            ):
                started = await self._require(repository, application_id, caller)
                await repository.record_pii_reveal(
                    started, actor=caller.subject, reason=f"scoring job {job_id}"
                )
                return self._view(started, reveal=True)
            raise _LostRace

    async def record_decision(
        self, application_id: UUID, recorded: RecordedDecision, *, caller: Principal
    ) -> ApplicationView:
        for _ in range(_VERSION_RACE_ATTEMPTS):
            try:
                return await self._record_decision(application_id, recorded, caller)
            except _LostRace:
                continue
        raise EtagMismatch()

    async def _record_decision(
        self, application_id: UUID, recorded: RecordedDecision, caller: Principal
    ) -> ApplicationView:
        target = STATUS_BY_OUTCOME[recorded.decision.outcome]
        async with self._database.connection() as repository:
            decided_now = await repository.decide_validating(
                application_id,
                recorded,
                status=target,
                actor=caller.subject,
                reason=_decision_reason(recorded),
            )
        if decided_now is not None:
            return self._view(decided_now, reveal=False)
        # Not VALIDATING for this job: a repeat, or an answer that explains why not.
        async with self._database.transaction() as repository:
            application = await self._require(repository, application_id, caller)
            target = STATUS_BY_OUTCOME[recorded.decision.outcome]
            decided = await repository.find_decision_application(recorded.job_id)
            if decided == application_id:
                # Read again: the decision may have been committed after the first read.
                return self._view(await self._require(repository, application_id, caller), reveal=False)
            if decided is not None or application.scoring_job_id != recorded.job_id:
                raise InvalidStatusTransition(application.status, target)
            check_transition(application.status, target, Actor.SCORING)
            _check_report_currency(application, recorded)
            if not await repository.insert_decision(application.id, recorded):
                raise _LostRace  # the same job's decision was recorded concurrently: answer as a repeat
            if await repository.change_status(
                application.id,
                expected_version=application.version,
                status=target,
                actor=caller.subject,
                reason=_decision_reason(recorded),
            ):
                return self._view(await self._require(repository, application_id, caller), reveal=False)
            raise _LostRace

    async def record_scoring_failure(
        self, application_id: UUID, *, job_id: str, failure_code: str, caller: Principal
    ) -> ApplicationView:
        for _ in range(_VERSION_RACE_ATTEMPTS):
            try:
                return await self._record_scoring_failure(application_id, job_id, failure_code, caller)
            except _LostRace:
                continue
        raise EtagMismatch()

    async def _record_scoring_failure(
        self, application_id: UUID, job_id: str, failure_code: str, caller: Principal
    ) -> ApplicationView:
        async with self._database.transaction() as repository:
            application = await self._require(repository, application_id, caller)
            if application.scoring_job_id == job_id and application.scoring_failure is not None:
                return self._view(application, reveal=False)
            if application.scoring_job_id != job_id or application.status is not Status.VALIDATING:
                raise InvalidStatusTransition(application.status, Status.UNDER_REVIEW)
            check_transition(application.status, Status.UNDER_REVIEW, Actor.SCORING)
            if await repository.change_status(
                application.id,
                expected_version=application.version,
                status=Status.UNDER_REVIEW,
                actor=caller.subject,
                reason=f"{SCORING_FAILED}: {failure_code}",
                scoring_failure=failure_code,
            ):
                return self._view(await self._require(repository, application_id, caller), reveal=False)
            raise _LostRace

    async def erase_applicant(self, application_id: UUID, *, reason: str, caller: Principal) -> list[UUID]:
        """Crypto-shreds the applicant's personal data in each of their applications of the same country;
        the applications, decisions and audit trail stay. Returns the named application and every other
        one erased now."""
        reason = reason_required(reason)
        async with self._database.transaction() as repository:
            await self._require(repository, application_id, caller)
            erased = await repository.erase_applicant(application_id, erased_by=caller.subject, reason=reason)
        return [application_id, *(other for other in erased if other != application_id)]

    async def rewrap_keys(self, *, batch_size: int = 500) -> int:
        """Re-wraps every data key under the current key-encryption key; returns how many it re-wrapped.

        Resumable and safe beside live traffic: it walks records still under an older key, and each swap
        only applies if the record is unchanged (an erasure in between wins). The etag stays the same.
        """
        rewrapped = 0
        after: UUID | None = None
        while True:
            async with self._database.connection() as repository:
                batch = await repository.sealed_under_other_keys(
                    self._cipher.current_key_id, after=after, limit=batch_size
                )
                for application_id, sealed in batch:
                    if await repository.replace_wrapped_key(
                        application_id, sealed, self._cipher.rewrap(application_id, sealed)
                    ):
                        rewrapped += 1
            if len(batch) < batch_size:
                return rewrapped
            after = batch[-1][0]

    async def _require(
        self, repository: ApplicationRepository, application_id: UUID, caller: Principal
    ) -> StoredApplication:
        """The application, if it exists and the caller may see it; a partner sees only its own."""
        application = await repository.get(application_id)
        if application is None or not _may_see(caller, application):
            raise ApplicationNotFound()
        return application

    def _view(self, application: StoredApplication, *, reveal: bool) -> ApplicationView:
        if application.sealed is None or application.erased_at is not None:
            return ApplicationView(application, full_name="", identity_document="")
        try:
            full_name, document = self._cipher.open(application.id, application.sealed)
        except PiiUnavailable:
            return ApplicationView(application, full_name="", identity_document="")
        return ApplicationView(application, full_name, document if reveal else mask_document(document))


def _needs_four_eyes(application: StoredApplication, target: Status) -> bool:
    """An analyst's approval of a review above the country's threshold needs a second approver."""
    return (
        application.status is Status.UNDER_REVIEW
        and target is Status.APPROVED
        and requires_four_eyes(application.country, application.requested_amount.amount)
    )


def _may_see(caller: Principal, application: StoredApplication) -> bool:
    if caller.has_any_role(*ANALYST_ROLES, SERVICE_ROLE):
        return True
    return (
        caller.has_any_role(PARTNER_ROLE)
        and caller.partner_id is not None
        and application.partner_id == caller.partner_id
    )


def _actors_of(caller: Principal, target: Status) -> set[Actor]:
    """The workflow roles a caller may play in a move to `target`."""
    actors: set[Actor] = set()
    if target is Status.CANCELLED and caller.has_any_role(PARTNER_ROLE, *ANALYST_ROLES):
        actors.add(Actor.CHANNEL)
    if caller.has_any_role(*ANALYST_ROLES):
        actors.add(Actor.ANALYST)
    if caller.has_any_role(SERVICE_ROLE):
        actors.add(Actor.SCORING)
    return actors


def _check_transition_for(current: Status, target: Status, actors: Iterable[Actor]) -> None:
    """Allowed when any of the caller's workflow roles may make the move."""
    refusal: TransitionNotPermitted | None = None
    for actor in sorted(actors):
        try:
            check_transition(current, target, actor)
        except TransitionNotPermitted as error:
            refusal = error
        else:
            return
    if refusal is not None:
        raise refusal
    # No workflow role at all: still say InvalidStatusTransition first when the move does not exist.
    check_transition(current, target, Actor.CHANNEL)


def _fingerprint_source(new: NewApplication, caller: Principal) -> bytes:
    """What makes two create requests 'the same payload': the validated application and its caller."""
    details = new.country_details
    data = {
        "caller": [caller.subject, caller.partner_id],
        "country": new.country.value,
        "full_name": new.full_name,
        "document": new.document.number,
        "requested_amount": [new.requested_amount.currency, str(new.requested_amount.amount)],
        "monthly_income": [new.monthly_income.currency, str(new.monthly_income.amount)],
        "term_months": new.term_months,
        "consent": [new.consent.granted_at.isoformat(), new.consent.channel.value, new.consent.reference],
        "country_details": None if details is None else [type(details).__name__, repr(details)],
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).digest()


def _same_confirmation(a: BankConfirmation, b: BankConfirmation) -> bool:
    return (
        a.bank_reference == b.bank_reference
        and a.identity_verified == b.identity_verified
        and a.disbursed == b.disbursed
        and a.amount_disbursed == b.amount_disbursed
        and a.occurred_at == b.occurred_at
    )


def _bank_reason(confirmation: BankConfirmation) -> str:
    if not confirmation.identity_verified:
        return f"bank {confirmation.bank_reference}: identity not verified"
    return f"bank {confirmation.bank_reference}: identity verified, funds disbursed"


def _decision_reason(recorded: RecordedDecision) -> str:
    decision = recorded.decision
    return (
        f"{decision.outcome.value} by rule set {decision.rule_set_version}, risk score {decision.risk_score}"
    )


def _check_currency(application: StoredApplication, confirmation: BankConfirmation) -> None:
    amount = confirmation.amount_disbursed
    if amount is not None and amount.currency != application.requested_amount.currency:
        raise ApplicationInvalid((_currency_mismatch("amount_disbursed.currency_code"),))


def _check_report_currency(application: StoredApplication, recorded: RecordedDecision) -> None:
    currency = application.requested_amount.currency
    report = recorded.credit_report
    violations = tuple(
        _currency_mismatch(f"credit_report.{field}.currency_code")
        for field, money in (
            ("total_debt", report.total_debt),
            ("monthly_obligations", report.monthly_obligations),
        )
        if money.currency != currency
    )
    if violations:
        raise ApplicationInvalid(violations)


def _currency_mismatch(field: str) -> Violation:
    return Violation(field, "CURRENCY_MISMATCH", "must be the application's currency")


def _uuid_position(position: str) -> UUID:
    try:
        return UUID(position)
    except ValueError as error:
        raise paging.InvalidPageToken("the page token is not valid") from error


def _int_position(position: str) -> int:
    try:
        return int(position)
    except ValueError as error:
        raise paging.InvalidPageToken("the page token is not valid") from error
