"""The two cross-country rules, BUREAU_FALLBACK and BUREAU_NO_SCORE, in every country's set."""

from __future__ import annotations

import pytest
from scoring_cases import D, decide_with, fired

from scoring.engine import Outcome
from scoring.facts import Country
from scoring.rules import SOFT
from scoring.rulesets import rule_set

# What a fallback report might carry: invented figures that would fire every bureau rule if believed.
MADE_UP = {
    "credit_score": 300,
    "total_debt": D("999999999.00"),
    "monthly_obligations": D("999999999.00"),
    "has_defaults": True,
    "account_age_months": 600,
}


@pytest.mark.parametrize("country", list(Country))
def test_a_fallback_report_sends_the_application_to_review_with_no_points(country: Country) -> None:
    decision = decide_with(country, fallback=True)

    assert fired(decision) == ["BUREAU_FALLBACK"]
    (reason,) = decision.reasons
    assert (reason.effect, reason.points, reason.observed, reason.threshold) == (SOFT, 0, "true", "true")
    assert decision.outcome is Outcome.REVIEW
    assert decision.risk_score == D("0.00")


@pytest.mark.parametrize("country", list(Country))
def test_the_figures_of_a_fallback_report_are_never_used(country: Country) -> None:
    decision = decide_with(country, fallback=True, **MADE_UP)

    assert fired(decision) == ["BUREAU_FALLBACK"]


@pytest.mark.parametrize(
    ("country", "changes", "expected"),
    [
        (Country.ES, {"requested_amount": D("25000.00")}, ["ES_AMOUNT_REVIEW", "BUREAU_FALLBACK"]),
        (Country.PT, {"requested_amount": D("25200.01")}, ["PT_PTI", "BUREAU_FALLBACK"]),
        (
            Country.IT,
            {"requested_amount": D("48000.01"), "term_months": 120},
            ["IT_STABILITY", "BUREAU_FALLBACK"],
        ),
        (Country.MX, {"requested_amount": D("108000.01")}, ["MX_PTI", "BUREAU_FALLBACK"]),
        (Country.MX, {"requested_amount": D("54000.00")}, ["BUREAU_FALLBACK", "MX_PTI_BONUS"]),
        # CO_TDTI needs the obligations, which a fallback report does not have.
        (Country.CO, {"requested_amount": D("49000000.00")}, ["BUREAU_FALLBACK"]),
        (Country.BR, {"requested_amount": D("300000.01")}, ["BR_LTI", "BUREAU_FALLBACK"]),
    ],
)
def test_on_a_fallback_report_only_rules_on_the_application_alone_fire_beside_it(
    country: Country, changes: dict[str, object], expected: list[str]
) -> None:
    decision = decide_with(country, fallback=True, **MADE_UP, **changes)

    assert fired(decision) == expected


@pytest.mark.parametrize("country", list(Country))
def test_a_report_without_a_score_adds_10_points_and_a_review(country: Country) -> None:
    decision = decide_with(country, credit_score=None)

    assert fired(decision) == ["BUREAU_NO_SCORE"]
    (reason,) = decision.reasons
    assert (reason.effect, reason.points, reason.observed, reason.threshold) == (SOFT, 10, "true", "true")
    assert decision.outcome is Outcome.REVIEW
    assert decision.risk_score == D("10.00")


@pytest.mark.parametrize("country", list(Country))
def test_a_fallback_report_does_not_count_as_a_report_without_a_score(country: Country) -> None:
    decision = decide_with(country, fallback=True, credit_score=None)

    assert "BUREAU_NO_SCORE" not in fired(decision)


@pytest.mark.parametrize("country", list(Country))
def test_the_cross_country_rules_close_every_set_identically(country: Country) -> None:
    rules = rule_set(country).rules

    assert rules[-2:] == rule_set(Country.ES).rules[-2:]
    assert [rule.code for rule in rules[-2:]] == ["BUREAU_FALLBACK", "BUREAU_NO_SCORE"]
