"""What intake keeps about an application, as the service layer reads and writes it: the stored
application with its decision, credit report, bank confirmations and audit entries."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

from intake.countries import Country
from intake.documents import DocumentType
from intake.domain import Consent, CountryDetails, Status
from intake.money import Money
from intake.pii import SealedPii

NAME_PREFIX = "applications/"


def application_name(application_id: UUID) -> str:
    return f"{NAME_PREFIX}{application_id}"


class Outcome(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    REVIEW = "REVIEW"


class RiskLevel(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class RuleEffect(StrEnum):
    HARD = "HARD"
    SOFT = "SOFT"
    BONUS = "BONUS"


# The status a recorded decision moves a VALIDATING application to.
STATUS_BY_OUTCOME: Mapping[Outcome, Status] = {
    Outcome.APPROVE: Status.APPROVED,
    Outcome.REJECT: Status.REJECTED,
    Outcome.REVIEW: Status.UNDER_REVIEW,
}


@dataclass(frozen=True)
class DecisionReason:
    code: str
    effect: RuleEffect
    points: int
    observed: str
    threshold: str
    message: str
    localized_messages: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CreditReport:
    provider: str
    credit_score: int | None
    total_debt: Money
    monthly_obligations: Money
    has_defaults: bool
    account_age_months: int
    fallback: bool
    report_id: str
    reported_at: datetime | None


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    risk_score: Decimal
    risk_level: RiskLevel
    reasons: tuple[DecisionReason, ...]
    rule_set_version: str
    decided_at: datetime


@dataclass(frozen=True)
class RecordedDecision:
    job_id: str
    decision: Decision
    credit_report: CreditReport


@dataclass(frozen=True)
class BankConfirmation:
    webhook_id: str
    bank_reference: str
    identity_verified: bool
    disbursed: bool
    amount_disbursed: Money | None
    occurred_at: datetime
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class PendingApproval:
    """The first of the two approvals an amount above the country's four-eyes threshold needs."""

    requested_by: str
    reason: str
    requested_at: datetime


@dataclass(frozen=True)
class StoredApplication:
    id: UUID
    country: Country
    status: Status
    status_reason: str
    version: int
    requested_amount: Money
    monthly_income: Money
    term_months: int
    document_type: DocumentType
    # None once the applicant's data has been erased.
    sealed: SealedPii | None
    consent: Consent
    country_details: CountryDetails | None
    partner_id: str | None
    scoring_job_id: str | None
    # Why scoring gave up on `scoring_job_id`, while the application is under review because of it.
    scoring_failure: str | None
    created_at: datetime
    updated_at: datetime
    decision: RecordedDecision | None = None
    bank_confirmations: tuple[BankConfirmation, ...] = ()
    pending_approval: PendingApproval | None = None
    # When the applicant's personal data was erased (their data key destroyed); None while it exists.
    erased_at: datetime | None = None

    @property
    def name(self) -> str:
        return application_name(self.id)

    @property
    def etag(self) -> str:
        return str(self.version)


@dataclass(frozen=True)
class NewApplicationRow:
    """A validated application, sealed and ready to insert."""

    id: UUID
    country: Country
    status_actor: str
    status_reason: str
    requested_amount: Money
    monthly_income: Money
    term_months: int
    document_type: DocumentType
    document_blind_index: bytes
    sealed: SealedPii
    consent: Consent
    country_details: CountryDetails | None
    partner_id: str | None
    created_by: str
    request_id: UUID
    request_fingerprint: bytes


class AuditKind(StrEnum):
    CREATED = "CREATED"
    STATUS_CHANGED = "STATUS_CHANGED"
    BANK_CONFIRMATION_RECORDED = "BANK_CONFIRMATION_RECORDED"
    PII_REVEALED = "PII_REVEALED"
    APPROVAL_REQUESTED = "APPROVAL_REQUESTED"
    PII_ERASED = "PII_ERASED"


@dataclass(frozen=True)
class AuditEntry:
    sequence: int
    kind: AuditKind
    actor: str
    from_status: Status | None
    to_status: Status | None
    reason: str
    occurred_at: datetime


@dataclass(frozen=True)
class OutboxEvent:
    """An event waiting for JetStream, as the trigger wrote it."""

    id: int
    event_id: UUID
    application_id: UUID
    subject: str
    payload: Mapping[str, object]
    created_at: datetime
    # The W3C traceparent of the request that queued the event, so its trace continues past the relay.
    trace_context: str | None = None
