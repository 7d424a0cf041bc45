"""Proto ↔ the rules engine: the only module that knows both the wire messages and the engine's types."""

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

from google.protobuf.timestamp_pb2 import Timestamp

from globalcredit.scoring.v1 import scoring_service_pb2
from globalcredit.type.v1 import country_pb2, credit_report_pb2, decision_pb2, money_pb2
from scoring.engine import Decision, Outcome, RiskLevel
from scoring.facts import DEFAULT_TERM_MONTHS, ApplicationFacts, BureauFacts, Country
from scoring.rules import Effect, RuleSet
from svckit.errors import FieldViolation

_AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?")

COUNTRIES: Mapping[Country, country_pb2.Country.ValueType] = {
    country: country_pb2.Country.Value(f"COUNTRY_{country}") for country in Country
}
_COUNTRY_OF = {value: country for country, value in COUNTRIES.items()}
_OUTCOMES: Mapping[Outcome, decision_pb2.DecisionOutcome.ValueType] = {
    outcome: decision_pb2.DecisionOutcome.Value(f"DECISION_OUTCOME_{outcome}") for outcome in Outcome
}
_LEVELS: Mapping[RiskLevel, decision_pb2.RiskLevel.ValueType] = {
    level: decision_pb2.RiskLevel.Value(f"RISK_LEVEL_{level}") for level in RiskLevel
}
_EFFECTS: Mapping[Effect, decision_pb2.RuleEffect.ValueType] = {
    effect: decision_pb2.RuleEffect.Value(f"RULE_EFFECT_{effect}") for effect in Effect
}


def country_from_proto(value: country_pb2.Country.ValueType) -> Country | None:
    return _COUNTRY_OF.get(value)


def amount(
    money: money_pb2.Money, field: str, currency: str | None, violations: list[FieldViolation]
) -> Decimal:
    """A money amount above zero in the expected currency; problems are added to `violations`."""
    if not _AMOUNT.fullmatch(money.amount):
        violations.append(
            FieldViolation(f"{field}.amount", "a decimal with at most two fraction digits", "MONEY_MALFORMED")
        )
        return Decimal(1)
    if currency is not None and money.currency_code != currency:
        violations.append(
            FieldViolation(f"{field}.currency_code", f"must be {currency}", "CURRENCY_MISMATCH")
        )
    return Decimal(money.amount)


def application_facts(
    country: Country,
    requested_amount: money_pb2.Money,
    monthly_income: money_pb2.Money,
    term_months: int,
    violations: list[FieldViolation],
    *,
    prefix: str = "",
) -> ApplicationFacts | None:
    currency = country.currency
    requested = amount(requested_amount, f"{prefix}requested_amount", currency, violations)
    income = amount(monthly_income, f"{prefix}monthly_income", currency, violations)
    for field, value in (("requested_amount", requested), ("monthly_income", income)):
        if value <= 0:
            violations.append(
                FieldViolation(f"{prefix}{field}.amount", "must be above zero", "AMOUNT_NOT_POSITIVE")
            )
    term = term_months or DEFAULT_TERM_MONTHS
    if not 6 <= term <= 120:
        violations.append(
            FieldViolation(f"{prefix}term_months", "6 to 120 months, or 0 for 36", "TERM_OUT_OF_RANGE")
        )
    if violations:
        return None
    return ApplicationFacts(
        country=country, requested_amount=requested, monthly_income=income, term_months=term
    )


def bureau_facts(
    report: credit_report_pb2.CreditReport,
    currency: str,
    violations: list[FieldViolation],
    *,
    prefix: str = "",
) -> BureauFacts | None:
    """What the rules may read of a report. A fallback report tells them nothing."""
    if report.fallback:
        return BureauFacts.unavailable()
    debt = amount(report.total_debt, f"{prefix}total_debt", currency, violations)
    obligations = amount(report.monthly_obligations, f"{prefix}monthly_obligations", currency, violations)
    if report.HasField("credit_score") and report.credit_score < 0:
        violations.append(
            FieldViolation(f"{prefix}credit_score", "must not be negative", "CREDIT_SCORE_INVALID")
        )
    if report.account_age_months < 0:
        violations.append(
            FieldViolation(f"{prefix}account_age_months", "must not be negative", "ACCOUNT_AGE_INVALID")
        )
    if violations:
        return None
    return BureauFacts(
        credit_score=report.credit_score if report.HasField("credit_score") else None,
        total_debt=debt,
        monthly_obligations=obligations,
        has_defaults=report.has_defaults,
        account_age_months=report.account_age_months,
    )


def decision_to_proto(decision: Decision, decided_at: datetime) -> decision_pb2.Decision:
    return decision_pb2.Decision(
        outcome=_OUTCOMES[decision.outcome],
        risk_score=f"{decision.risk_score:.2f}",
        risk_level=_LEVELS[decision.risk_level],
        reasons=[
            decision_pb2.DecisionReason(
                code=reason.code,
                effect=_EFFECTS[reason.effect],
                points=reason.points,
                observed=reason.observed,
                threshold=reason.threshold,
                message=reason.message,
                localized_messages=reason.messages.as_dict(),
            )
            for reason in decision.reasons
        ],
        rule_set_version=decision.rule_set_version,
        decide_time=timestamp(decided_at),
    )


def rule_set_to_proto(rule_set: RuleSet) -> scoring_service_pb2.RuleSet:
    return scoring_service_pb2.RuleSet(
        country=COUNTRIES[rule_set.country],
        version=rule_set.version,
        rules=[
            scoring_service_pb2.Rule(
                code=rule.code,
                description=rule.description,
                points=rule.points,
                effect=_EFFECTS[rule.effect],
                threshold=rule.threshold_text,
            )
            for rule in rule_set.rules
        ],
        effective_time=timestamp(_midnight(rule_set.effective_from)),
    )


def timestamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
