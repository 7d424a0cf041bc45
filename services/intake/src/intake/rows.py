"""Rows of the intake schema to domain records and back: the one place that knows how a column or a
JSON document stores a value (money as NUMERIC with the row's currency, country details by type name)."""

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

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
    BankConfirmation,
    CreditReport,
    Decision,
    DecisionReason,
    Outcome,
    PendingApproval,
    RecordedDecision,
    RiskLevel,
    RuleEffect,
    StoredApplication,
)

_DETAILS_TYPES: Mapping[str, type[CountryDetails]] = {
    cls.__name__: cls
    for cls in (SpainDetails, PortugalDetails, ItalyDetails, MexicoDetails, ColombiaDetails, BrazilDetails)
}


def application_from_row(row: Mapping[str, Any]) -> StoredApplication:
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
        scoring_failure=row["scoring_failure"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        decision=decision_from_row(row),
        bank_confirmations=tuple(confirmation_from_row(item) for item in row.get("confirmations") or ()),
        pending_approval=None
        if row["pending_approval_by"] is None
        else PendingApproval(
            requested_by=row["pending_approval_by"],
            reason=row["pending_approval_reason"],
            requested_at=row["pending_approval_at"],
        ),
        erased_at=row["pii_erased_at"],
    )


def decision_from_row(row: Mapping[str, Any]) -> RecordedDecision | None:
    if row.get("decision_id") is None:  # absent: a statement that returns the application alone
        return None
    currency = row["report_currency"]
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
            provider=row["report_provider"],
            credit_score=row["report_credit_score"],
            total_debt=Money(currency, row["report_total_debt"]),
            monthly_obligations=Money(currency, row["report_monthly_obligations"]),
            has_defaults=row["report_has_defaults"],
            account_age_months=row["report_account_age_months"],
            fallback=row["report_fallback"],
            report_id=row["report_id"],
            reported_at=row["reported_at"],
        ),
    )


def confirmation_from_row(row: Mapping[str, Any]) -> BankConfirmation:
    """From a row, or from the JSON the list query aggregates (times as text, amounts as text)."""
    amount = row["amount_disbursed"]
    return BankConfirmation(
        webhook_id=row["webhook_id"],
        bank_reference=row["bank_reference"],
        identity_verified=row["identity_verified"],
        disbursed=row["disbursed"],
        amount_disbursed=None if amount is None else Money(row["currency"], Decimal(amount)),
        occurred_at=_moment(row["occurred_at"]),
        recorded_at=_moment(row["recorded_at"]),
    )


def _moment(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def reason_to_json(reason: DecisionReason) -> dict[str, Any]:
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


def details_to_json(details: CountryDetails | None) -> dict[str, Any] | None:
    if details is None:
        return None
    return {"type": type(details).__name__, **dataclasses.asdict(details)}


def _details_from_json(data: Mapping[str, Any] | None) -> CountryDetails | None:
    if data is None:
        return None
    fields = dict(data)
    return _DETAILS_TYPES[fields.pop("type")](**fields)
