"""The inputs: Decimal money only, positive divisors, and a fallback report that knows nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from scoring_cases import CLEAN, D, facts

from scoring.facts import DEFAULT_TERM_MONTHS, ApplicationFacts, BureauFacts, Country


def test_the_term_defaults_to_36_months() -> None:
    application = ApplicationFacts(country=Country.ES, requested_amount=D("1"), monthly_income=D("1"))

    assert application.term_months == DEFAULT_TERM_MONTHS == 36


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"requested_amount": 10000.0}, TypeError),
        ({"monthly_income": 3000}, TypeError),
        ({"monthly_income": D("0")}, ValueError),
        ({"requested_amount": D("0")}, ValueError),
        ({"requested_amount": D("NaN")}, ValueError),
        ({"monthly_income": D("Infinity")}, ValueError),
        ({"term_months": 0}, ValueError),
        ({"term_months": True}, TypeError),
        ({"term_months": 36.0}, TypeError),
        ({"monthly_obligations": 600.0}, TypeError),
        ({"monthly_obligations": D("-0.01")}, ValueError),
        ({"total_debt": 5000.0}, TypeError),
        ({"credit_score": 700.0}, TypeError),
        ({"credit_score": True}, TypeError),
        ({"credit_score": -1}, ValueError),
        ({"has_defaults": 1}, TypeError),
        ({"account_age_months": -1}, ValueError),
        ({"fallback": None}, TypeError),
    ],
)
def test_malformed_facts_are_refused(changes: dict[str, Any], problem: type[Exception]) -> None:
    with pytest.raises(problem):
        facts(Country.ES, **changes)


def test_a_country_must_be_a_country() -> None:
    with pytest.raises(TypeError):
        ApplicationFacts(country="ES", requested_amount=D("1"), monthly_income=D("1"))  # type: ignore[arg-type]


def test_the_unavailable_report_is_a_fallback_that_knows_nothing() -> None:
    report = BureauFacts.unavailable()

    assert report.fallback
    assert (
        report.credit_score,
        report.total_debt,
        report.monthly_obligations,
        report.has_defaults,
        report.account_age_months,
    ) == (None, None, None, None, None)


def test_what_the_rules_may_know_of_a_fallback_report_is_nothing() -> None:
    _, bureau = facts(Country.ES, fallback=True)

    assert bureau.credit_score == CLEAN[Country.ES]["credit_score"]
    assert bureau.known() == BureauFacts.unavailable()


def test_what_the_rules_may_know_of_a_real_report_is_all_of_it() -> None:
    _, bureau = facts(Country.ES)

    assert bureau.known() is bureau


def test_each_country_has_its_currency() -> None:
    assert [country.currency for country in Country] == ["EUR", "EUR", "EUR", "MXN", "COP", "BRL"]


def test_annual_income_is_twelve_months() -> None:
    application, _ = facts(Country.ES, monthly_income=D("1234.56"))

    assert application.annual_income == Decimal("14814.72")
