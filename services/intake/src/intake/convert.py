"""Proto ↔ domain: the only place that knows both the wire messages and intake's domain types."""

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar
from uuid import UUID

from google.protobuf.timestamp_pb2 import Timestamp

from globalcredit.intake.v1 import application_pb2, intake_service_pb2
from globalcredit.type.v1 import country_pb2, credit_report_pb2, decision_pb2, money_pb2
from intake.countries import Country
from intake.documents import DocumentType
from intake.domain import (
    ApplicationDraft,
    BrazilDetails,
    ColombiaDetails,
    ConsentChannel,
    ConsentInput,
    CountryDetails,
    ItalyDetails,
    MexicoDetails,
    MoneyInput,
    PortugalDetails,
    SpainDetails,
    Status,
)
from intake.errors import Violation
from intake.money import Money, MoneyMalformed, format_amount, parse_amount
from intake.records import (
    NAME_PREFIX,
    AuditEntry,
    AuditKind,
    BankConfirmation,
    CreditReport,
    Decision,
    DecisionReason,
    Outcome,
    RecordedDecision,
    RiskLevel,
    RuleEffect,
)
from intake.service import ApplicationView

K = TypeVar("K")
V = TypeVar("V")

_COUNTRIES: Mapping[Country, country_pb2.Country.ValueType] = {
    country: country_pb2.Country.Value(f"COUNTRY_{country}") for country in Country
}
_STATUSES: Mapping[Status, application_pb2.ApplicationStatus.ValueType] = {
    status: application_pb2.ApplicationStatus.Value(f"APPLICATION_STATUS_{status}") for status in Status
}
_CHANNELS: Mapping[ConsentChannel, application_pb2.ConsentChannel.ValueType] = {
    channel: application_pb2.ConsentChannel.Value(f"CONSENT_CHANNEL_{channel}") for channel in ConsentChannel
}
_DOCUMENT_TYPES: Mapping[DocumentType, application_pb2.IdentityDocumentType.ValueType] = {
    kind: application_pb2.IdentityDocumentType.Value(f"IDENTITY_DOCUMENT_TYPE_{kind}")
    for kind in DocumentType
}
_OUTCOMES: Mapping[Outcome, decision_pb2.DecisionOutcome.ValueType] = {
    outcome: decision_pb2.DecisionOutcome.Value(f"DECISION_OUTCOME_{outcome}") for outcome in Outcome
}
_RISK_LEVELS: Mapping[RiskLevel, decision_pb2.RiskLevel.ValueType] = {
    level: decision_pb2.RiskLevel.Value(f"RISK_LEVEL_{level}") for level in RiskLevel
}
_EFFECTS: Mapping[RuleEffect, decision_pb2.RuleEffect.ValueType] = {
    effect: decision_pb2.RuleEffect.Value(f"RULE_EFFECT_{effect}") for effect in RuleEffect
}
_AUDIT_KINDS: Mapping[AuditKind, application_pb2.AuditEventKind.ValueType] = {
    kind: application_pb2.AuditEventKind.Value(f"AUDIT_EVENT_KIND_{kind}") for kind in AuditKind
}


def _inverse(mapping: Mapping[K, V]) -> dict[V, K]:
    return {value: key for key, value in mapping.items()}


_COUNTRY_OF = _inverse(_COUNTRIES)
_STATUS_OF = _inverse(_STATUSES)
_CHANNEL_OF = _inverse(_CHANNELS)
_OUTCOME_OF = _inverse(_OUTCOMES)
_RISK_LEVEL_OF = _inverse(_RISK_LEVELS)
_EFFECT_OF = _inverse(_EFFECTS)


class RequestInvalid(Exception):
    """A request whose fields cannot even be read into the domain; every bad field is listed."""

    def __init__(self, reason: str, violations: list[Violation]) -> None:
        super().__init__(f"{len(violations)} invalid field(s)")
        self.reason = reason
        self.violations = tuple(violations)


def country_to_proto(country: Country) -> country_pb2.Country.ValueType:
    return _COUNTRIES[country]


def country_from_proto(value: country_pb2.Country.ValueType) -> Country | None:
    return _COUNTRY_OF.get(value)


def status_to_proto(status: Status) -> application_pb2.ApplicationStatus.ValueType:
    return _STATUSES[status]


def status_from_proto(value: application_pb2.ApplicationStatus.ValueType) -> Status | None:
    return _STATUS_OF.get(value)


def outcome_to_proto(outcome: Outcome) -> decision_pb2.DecisionOutcome.ValueType:
    return _OUTCOMES[outcome]


def application_id(name: str, field: str = "name") -> UUID:
    """The id in `applications/{id}`; a malformed name is a RequestInvalid naming `field`."""
    if name.startswith(NAME_PREFIX):
        try:
            return UUID(name.removeprefix(NAME_PREFIX))
        except ValueError:
            pass
    raise RequestInvalid(
        "INVALID_NAME", [Violation(field, "INVALID_NAME", "must be applications/{id}, the id a UUID")]
    )


def timestamp_to_datetime(timestamp: Timestamp) -> datetime:
    return timestamp.ToDatetime(tzinfo=UTC)


def datetime_to_timestamp(moment: datetime) -> Timestamp:
    timestamp = Timestamp()
    timestamp.FromDatetime(moment)
    return timestamp


def money_to_proto(money: Money) -> money_pb2.Money:
    return money_pb2.Money(currency_code=money.currency, amount=format_amount(money.amount))


def draft_from_proto(application: application_pb2.Application) -> ApplicationDraft:
    """The client's application as the domain validates it; output-only fields are ignored."""
    consent = None
    if application.HasField("consent"):
        consent = ConsentInput(
            granted_at=timestamp_to_datetime(application.consent.granted_at)
            if application.consent.HasField("granted_at")
            else None,
            channel=_CHANNEL_OF.get(application.consent.channel),
            reference=application.consent.reference,
        )
    return ApplicationDraft(
        country=country_from_proto(application.country),
        full_name=application.applicant.full_name,
        identity_document=application.applicant.identity_document,
        requested_amount=_money_input(application, "requested_amount"),
        monthly_income=_money_input(application, "monthly_income"),
        term_months=application.term_months,
        consent=consent,
        country_details=_details_from_proto(application.country_details)
        if application.HasField("country_details")
        else None,
    )


def _money_input(application: application_pb2.Application, field: str) -> MoneyInput | None:
    if not application.HasField(field):  # type: ignore[arg-type]
        return None
    money: money_pb2.Money = getattr(application, field)
    return MoneyInput(currency_code=money.currency_code, amount=money.amount)


def _details_from_proto(details: application_pb2.CountryDetails) -> CountryDetails | None:
    match details.WhichOneof("details"):
        case "spain":
            return SpainDetails(province_code=details.spain.province_code)
        case "portugal":
            return PortugalDetails(district_code=details.portugal.district_code)
        case "italy":
            return ItalyDetails(province_code=details.italy.province_code)
        case "mexico":
            return MexicoDetails(state_code=details.mexico.state_code)
        case "colombia":
            return ColombiaDetails(socioeconomic_stratum=details.colombia.socioeconomic_stratum)
        case "brazil":
            return BrazilDetails(state_code=details.brazil.state_code)
    return None


def _details_to_proto(details: CountryDetails) -> application_pb2.CountryDetails:
    match details:
        case SpainDetails():
            return application_pb2.CountryDetails(
                spain=application_pb2.SpainDetails(province_code=details.province_code)
            )
        case PortugalDetails():
            return application_pb2.CountryDetails(
                portugal=application_pb2.PortugalDetails(district_code=details.district_code)
            )
        case ItalyDetails():
            return application_pb2.CountryDetails(
                italy=application_pb2.ItalyDetails(province_code=details.province_code)
            )
        case MexicoDetails():
            return application_pb2.CountryDetails(
                mexico=application_pb2.MexicoDetails(state_code=details.state_code)
            )
        case ColombiaDetails():
            return application_pb2.CountryDetails(
                colombia=application_pb2.ColombiaDetails(socioeconomic_stratum=details.socioeconomic_stratum)
            )
        case BrazilDetails():
            return application_pb2.CountryDetails(
                brazil=application_pb2.BrazilDetails(state_code=details.state_code)
            )


def application_to_proto(view: ApplicationView) -> application_pb2.Application:
    stored = view.application
    message = application_pb2.Application(
        name=stored.name,
        country=country_to_proto(stored.country),
        applicant=application_pb2.Applicant(
            full_name=view.full_name,
            identity_document=view.identity_document,
            identity_document_type=_DOCUMENT_TYPES[stored.document_type],
        ),
        requested_amount=money_to_proto(stored.requested_amount),
        monthly_income=money_to_proto(stored.monthly_income),
        term_months=stored.term_months,
        consent=application_pb2.BureauConsent(
            granted_at=datetime_to_timestamp(stored.consent.granted_at),
            channel=_CHANNELS[stored.consent.channel],
            reference=stored.consent.reference,
        ),
        status=status_to_proto(stored.status),
        status_reason=stored.status_reason,
        bank_confirmations=[
            _confirmation_to_proto(confirmation) for confirmation in stored.bank_confirmations
        ],
        etag=stored.etag,
        create_time=datetime_to_timestamp(stored.created_at),
        update_time=datetime_to_timestamp(stored.updated_at),
        partner_id=stored.partner_id or "",
    )
    if stored.country_details is not None:
        message.country_details.CopyFrom(_details_to_proto(stored.country_details))
    if stored.erased_at is not None:
        message.applicant.erased = True
    if stored.pending_approval is not None:
        pending = stored.pending_approval
        message.pending_approval.CopyFrom(
            application_pb2.PendingApproval(
                requested_by=pending.requested_by,
                reason=pending.reason,
                request_time=datetime_to_timestamp(pending.requested_at),
            )
        )
    if stored.decision is not None:
        message.decision.CopyFrom(_decision_to_proto(stored.decision.decision))
        message.credit_report.CopyFrom(_report_to_proto(stored.decision.credit_report))
    return message


def _decision_to_proto(decision: Decision) -> decision_pb2.Decision:
    return decision_pb2.Decision(
        outcome=_OUTCOMES[decision.outcome],
        risk_score=format_amount(decision.risk_score),
        risk_level=_RISK_LEVELS[decision.risk_level],
        reasons=[
            decision_pb2.DecisionReason(
                code=reason.code,
                effect=_EFFECTS[reason.effect],
                points=reason.points,
                observed=reason.observed,
                threshold=reason.threshold,
                message=reason.message,
                localized_messages=dict(reason.localized_messages),
            )
            for reason in decision.reasons
        ],
        rule_set_version=decision.rule_set_version,
        decide_time=datetime_to_timestamp(decision.decided_at),
    )


def _report_to_proto(report: CreditReport) -> credit_report_pb2.CreditReport:
    message = credit_report_pb2.CreditReport(
        provider=report.provider,
        total_debt=money_to_proto(report.total_debt),
        monthly_obligations=money_to_proto(report.monthly_obligations),
        has_defaults=report.has_defaults,
        account_age_months=report.account_age_months,
        fallback=report.fallback,
        report_id=report.report_id,
    )
    if report.credit_score is not None:
        message.credit_score = report.credit_score
    if report.reported_at is not None:
        message.report_time.CopyFrom(datetime_to_timestamp(report.reported_at))
    return message


def _confirmation_to_proto(confirmation: BankConfirmation) -> application_pb2.BankConfirmation:
    message = application_pb2.BankConfirmation(
        webhook_id=confirmation.webhook_id,
        bank_reference=confirmation.bank_reference,
        identity_verified=confirmation.identity_verified,
        disbursed=confirmation.disbursed,
        occur_time=datetime_to_timestamp(confirmation.occurred_at),
    )
    if confirmation.amount_disbursed is not None:
        message.amount_disbursed.CopyFrom(money_to_proto(confirmation.amount_disbursed))
    if confirmation.recorded_at is not None:
        message.record_time.CopyFrom(datetime_to_timestamp(confirmation.recorded_at))
    return message


def audit_to_proto(entry: AuditEntry) -> application_pb2.AuditEvent:
    return application_pb2.AuditEvent(
        sequence=entry.sequence,
        kind=_AUDIT_KINDS[entry.kind],
        occur_time=datetime_to_timestamp(entry.occurred_at),
        actor=entry.actor,
        from_status=application_pb2.APPLICATION_STATUS_UNSPECIFIED
        if entry.from_status is None
        else status_to_proto(entry.from_status),
        to_status=application_pb2.APPLICATION_STATUS_UNSPECIFIED
        if entry.to_status is None
        else status_to_proto(entry.to_status),
        reason=entry.reason,
    )


def bank_confirmation_from_proto(
    request: intake_service_pb2.RecordBankConfirmationRequest,
) -> BankConfirmation:
    violations: list[Violation] = []
    if not request.webhook_id.strip() or len(request.webhook_id) > 200:
        violations.append(
            Violation("webhook_id", "WEBHOOK_ID_REQUIRED", "a webhook id of 1 to 200 characters")
        )
    if not request.bank_reference.strip() or len(request.bank_reference) > 200:
        violations.append(
            Violation("bank_reference", "BANK_REFERENCE_REQUIRED", "a bank reference of 1 to 200 characters")
        )
    if not request.HasField("occur_time"):
        violations.append(Violation("occur_time", "OCCUR_TIME_REQUIRED", "when it happened at the bank"))
    amount = None
    if request.HasField("amount_disbursed"):
        amount = _money(request.amount_disbursed, "amount_disbursed", violations, allow_zero=True)
    if violations:
        raise RequestInvalid("INVALID_BANK_CONFIRMATION", violations)
    return BankConfirmation(
        webhook_id=request.webhook_id,
        bank_reference=request.bank_reference,
        identity_verified=request.identity_verified,
        disbursed=request.disbursed,
        amount_disbursed=amount,
        occurred_at=timestamp_to_datetime(request.occur_time),
    )


def recorded_decision_from_proto(request: intake_service_pb2.RecordDecisionRequest) -> RecordedDecision:
    """Scoring's decision and report, checked field by field."""
    violations: list[Violation] = []
    if not request.job_id:
        violations.append(Violation("job_id", "JOB_ID_REQUIRED", "the scoring job id is required"))
    if not request.HasField("decision"):
        violations.append(Violation("decision", "DECISION_REQUIRED", "the decision is required"))
    if not request.HasField("credit_report"):
        violations.append(
            Violation("credit_report", "CREDIT_REPORT_REQUIRED", "the credit report is required")
        )
    if violations:
        raise RequestInvalid("INVALID_DECISION", violations)
    decision, report = request.decision, request.credit_report
    outcome = _OUTCOME_OF.get(decision.outcome)
    if outcome is None:
        violations.append(Violation("decision.outcome", "OUTCOME_REQUIRED", "approve, reject or review"))
    level = _RISK_LEVEL_OF.get(decision.risk_level)
    if level is None:
        violations.append(
            Violation("decision.risk_level", "RISK_LEVEL_REQUIRED", "the risk level is required")
        )
    score = _risk_score(decision.risk_score, violations)
    if not decision.rule_set_version:
        violations.append(
            Violation(
                "decision.rule_set_version", "RULE_SET_VERSION_REQUIRED", "the rule set version is required"
            )
        )
    reasons = []
    for index, reason in enumerate(decision.reasons):
        effect = _EFFECT_OF.get(reason.effect)
        if effect is None or not reason.code:
            violations.append(
                Violation(
                    f"decision.reasons[{index}]", "REASON_INVALID", "every reason needs a code and an effect"
                )
            )
            continue
        reasons.append(
            DecisionReason(
                code=reason.code,
                effect=effect,
                points=reason.points,
                observed=reason.observed,
                threshold=reason.threshold,
                message=reason.message,
                localized_messages=dict(reason.localized_messages),
            )
        )
    total_debt = _money(report.total_debt, "credit_report.total_debt", violations, allow_zero=True)
    obligations = _money(
        report.monthly_obligations, "credit_report.monthly_obligations", violations, allow_zero=True
    )
    if not report.provider:
        violations.append(Violation("credit_report.provider", "PROVIDER_REQUIRED", "the bureau is required"))
    if report.account_age_months < 0:
        violations.append(
            Violation("credit_report.account_age_months", "ACCOUNT_AGE_INVALID", "must not be negative")
        )
    if (
        violations
        or outcome is None
        or level is None
        or score is None
        or total_debt is None
        or obligations is None
    ):
        raise RequestInvalid("INVALID_DECISION", violations)
    return RecordedDecision(
        job_id=request.job_id,
        decision=Decision(
            outcome=outcome,
            risk_score=score,
            risk_level=level,
            reasons=tuple(reasons),
            rule_set_version=decision.rule_set_version,
            decided_at=timestamp_to_datetime(decision.decide_time)
            if decision.HasField("decide_time")
            else datetime.now(UTC),
        ),
        credit_report=CreditReport(
            provider=report.provider,
            credit_score=report.credit_score if report.HasField("credit_score") else None,
            total_debt=total_debt,
            monthly_obligations=obligations,
            has_defaults=report.has_defaults,
            account_age_months=report.account_age_months,
            fallback=report.fallback,
            report_id=report.report_id,
            reported_at=timestamp_to_datetime(report.report_time) if report.HasField("report_time") else None,
        ),
    )


def _money(
    message: money_pb2.Money, field: str, violations: list[Violation], *, allow_zero: bool
) -> Money | None:
    try:
        amount = parse_amount(message.amount)
    except MoneyMalformed as error:
        violations.append(Violation(f"{field}.amount", error.reason, error.description))
        return None
    if not allow_zero and amount <= 0:
        violations.append(Violation(f"{field}.amount", "AMOUNT_NOT_POSITIVE", "must be above zero"))
        return None
    if (
        len(message.currency_code) != 3
        or not message.currency_code.isascii()
        or not message.currency_code.isupper()
    ):
        violations.append(
            Violation(f"{field}.currency_code", "MONEY_MALFORMED", "an ISO 4217 code such as EUR")
        )
        return None
    return Money(message.currency_code, amount)


def _risk_score(text: str, violations: list[Violation]) -> Decimal | None:
    """A score from 0 to 100 with at most two fraction digits, the money grammar's shape."""
    try:
        score = parse_amount(text)
    except MoneyMalformed:
        score = None
    if score is None or score > Decimal(100):
        violations.append(
            Violation(
                "decision.risk_score",
                "RISK_SCORE_INVALID",
                "a decimal from 0 to 100 with two fraction digits",
            )
        )
        return None
    return score
