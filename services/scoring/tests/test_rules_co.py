"""Colombia's rules at their thresholds: just below, at and just above, one input changed at a time."""

from __future__ import annotations

import pytest
from scoring_cases import D, Variation, check, covered_codes, decide_with

from scoring.engine import Outcome
from scoring.facts import Country
from scoring.rulesets import rule_set

# Income 3,000,000.00, amount 6,000,000.00 (500,000.00 a month over 12 months), obligations 300,000.00
# and debt 6,000,000.00 unless `given` says otherwise.
THRESHOLDS = [
    # (obligations + amount / 12) / income x 100 > 40: 700,000.00 + 500,000.00 is 40 % of 3,000,000.00
    Variation("CO_TDTI", "monthly_obligations", (D("699999.99"), D("700000.00"), D("700000.01")),
              (False, False, True), ("40.00", "40.00")),
    # score < 600
    Variation("CO_SCORE", "credit_score", (599, 600, 601), (True, False, False), ("599", "600")),
    # debt > 6 x income = 18,000,000.00; the reason shows the debt against 6 x income, both as money
    Variation("CO_TOTAL_DEBT", "total_debt", (D("17999999.99"), D("18000000.00"), D("18000000.01")),
              (False, False, True), ("18000000.01", "18000000.00")),
    # score ≥ 750
    Variation("CO_SCORE_BONUS", "credit_score", (749, 750, 751), (False, True, True), ("750", "750")),
    # account_age ≥ 36
    Variation("CO_TENURE_BONUS", "account_age_months", (35, 36, 37), (False, True, True), ("36", "36")),
]  # fmt: skip

FLAGS = [
    Variation("CO_DEFAULTS", "has_defaults", (False, True, None), (False, True, False), ("true", "true")),
]


@pytest.mark.parametrize("case", THRESHOLDS, ids=str)
def test_threshold_rule_fires_exactly_as_its_comparator_says(case: Variation) -> None:
    check(Country.CO, case)


@pytest.mark.parametrize("case", FLAGS, ids=str)
def test_flag_rule_fires_only_when_the_flag_is_set(case: Variation) -> None:
    check(Country.CO, case)


def test_active_defaults_alone_never_reject_a_colombian_application() -> None:
    decision = decide_with(Country.CO, has_defaults=True)

    assert decision.outcome is Outcome.REVIEW


@pytest.mark.parametrize("term_months", [6, 12, 36, 120])
def test_tdti_spreads_the_amount_over_12_months_whatever_the_term(term_months: int) -> None:
    decision = decide_with(Country.CO, monthly_obligations=D("700000.01"), term_months=term_months)

    (reason,) = decision.reasons
    assert (reason.code, reason.observed) == ("CO_TDTI", "40.00")


def test_every_rule_of_the_set_is_tested_at_its_boundary() -> None:
    assert covered_codes(THRESHOLDS, FLAGS) == {rule.code for rule in rule_set(Country.CO).rules}
