"""Test facts for scoring's rules: a clean applicant per country, on whom no rule fires, so that a test can
change one input and see exactly one rule move."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from scoring.engine import Decision, Outcome, decide
from scoring.facts import ApplicationFacts, BureauFacts, Country
from scoring.rules import Effect
from scoring.rulesets import rule_set

D = Decimal

_APPLICATION_FIELDS = frozenset({"requested_amount", "monthly_income", "term_months"})

# Nothing fires on these: every ratio, score and flag sits well inside every threshold of its country,
# and no bonus applies either (scores below the bonus, PTI above MX's 15 %, short account ages).
CLEAN: Mapping[Country, Mapping[str, Any]] = {
    Country.ES: {
        "requested_amount": D("10000.00"),  # PTI 9.26 %
        "monthly_income": D("3000.00"),
        "term_months": 36,
        "credit_score": 700,
        "total_debt": D("5000.00"),
        "monthly_obligations": D("600.00"),  # DTI 20 %
        "has_defaults": False,
        "account_age_months": 12,
    },
    Country.PT: {
        "requested_amount": D("10000.00"),  # LTI 0.42, PTI 13.89 %
        "monthly_income": D("2000.00"),
        "term_months": 36,
        "credit_score": 700,
        "total_debt": D("5000.00"),
        "monthly_obligations": D("400.00"),  # DTI 20 %
        "has_defaults": False,
        "account_age_months": 12,
    },
    Country.IT: {
        "requested_amount": D("10000.00"),  # PTI 13.89 %, well under 24 x income
        "monthly_income": D("2000.00"),
        "term_months": 36,
        "credit_score": 700,
        "total_debt": D("5000.00"),
        "monthly_obligations": D("400.00"),  # DTI 20 %
        "has_defaults": False,
        "account_age_months": 12,
    },
    Country.MX: {
        "requested_amount": D("72000.00"),  # PTI 20 %, LTI 0.6
        "monthly_income": D("10000.00"),
        "term_months": 36,
        "credit_score": 650,
        "total_debt": D("20000.00"),
        "monthly_obligations": D("1000.00"),  # TDTI 30 %
        "has_defaults": False,
        "account_age_months": 12,
    },
    Country.CO: {
        "requested_amount": D("6000000.00"),
        "monthly_income": D("3000000.00"),
        "term_months": 36,
        "credit_score": 700,
        "total_debt": D("6000000.00"),  # 2 x income
        "monthly_obligations": D("300000.00"),  # TDTI over 12 months 26.67 %
        "has_defaults": False,
        "account_age_months": 12,
    },
    Country.BR: {
        "requested_amount": D("12000.00"),  # LTI 0.2
        "monthly_income": D("5000.00"),
        "term_months": 36,
        "credit_score": 650,
        "total_debt": D("10000.00"),
        "monthly_obligations": D("500.00"),  # TDTI over 12 months 30 %
        "has_defaults": False,
        "account_age_months": 12,
    },
}


def facts(country: Country, **changes: Any) -> tuple[ApplicationFacts, BureauFacts]:
    """The clean applicant of `country`, with `changes` to any application or bureau field."""
    unknown = set(changes) - set(CLEAN[country]) - {"fallback"}
    assert not unknown, f"unknown fields {unknown}"
    values = {**CLEAN[country], **changes}
    application = ApplicationFacts(
        country=country, **{name: value for name, value in values.items() if name in _APPLICATION_FIELDS}
    )
    bureau = BureauFacts(**{name: value for name, value in values.items() if name not in _APPLICATION_FIELDS})
    return application, bureau


def decide_with(country: Country, **changes: Any) -> Decision:
    """The decision on the clean applicant of `country` with `changes`."""
    application, bureau = facts(country, **changes)
    return decide(application, bureau)


def fired(decision: Decision) -> list[str]:
    """The codes of the reasons, in ranked order."""
    return [reason.code for reason in decision.reasons]


@dataclass(frozen=True)
class Variation:
    """One rule, one input, three values of it, and whether the rule fires on each.

    For a threshold the values are just below, at and just above it; for a flag they are unset, set and
    absent. `shown` is the reason's (observed, threshold) on the first value that fires. `given` holds
    other inputs fixed away from the clean applicant (for example a term that keeps a second rule quiet).
    """

    code: str
    varied: str
    values: tuple[Any, Any, Any]
    fires: tuple[bool, bool, bool]
    shown: tuple[str, str]
    given: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.code


_OUTCOME = {Effect.HARD: Outcome.REJECT, Effect.SOFT: Outcome.REVIEW, Effect.BONUS: Outcome.APPROVE}


def check(country: Country, case: Variation) -> None:
    """Only `case.code` moves as `case.varied` takes its three values, and it moves as `case.fires` says."""
    rule = rule_set(country).rule(case.code)
    shown = False
    for value, fires in zip(case.values, case.fires, strict=True):
        decision = decide_with(country, **{**case.given, case.varied: value})
        assert fired(decision) == ([case.code] if fires else []), f"{case.varied}={value}"
        if not fires:
            assert decision.outcome is Outcome.APPROVE
            continue
        (reason,) = decision.reasons
        assert decision.outcome is _OUTCOME[rule.effect]
        assert (reason.effect, reason.points) == (rule.effect, rule.points)
        assert decision.risk_score == max(D(rule.points), D(0)).quantize(D("0.01"))
        if not shown:
            assert (reason.observed, reason.threshold) == case.shown, f"{case.varied}={value}"
            shown = True


def covered_codes(*tables: list[Variation]) -> set[str]:
    """Every rule code the tables test; the cross-country rules are tested in test_rules_bureau."""
    return {case.code for table in tables for case in table} | {"BUREAU_FALLBACK", "BUREAU_NO_SCORE"}
