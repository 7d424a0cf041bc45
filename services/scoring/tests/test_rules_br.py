"""Brazil's rules at their thresholds: just below, at and just above, one input changed at a time."""

from __future__ import annotations

import pytest
from scoring_cases import D, Variation, check, covered_codes, decide_with, fired

from scoring.facts import Country
from scoring.rulesets import rule_set

# Income 5,000.00, amount 12,000.00 (1,000.00 a month over 12 months) and obligations 500.00 unless
# `given` says otherwise.
THRESHOLDS = [
    # LTI > 5: 300,000.00 is 5 x 60,000.00 of annual income. The TDTI below is at least 100 x LTI, so
    # BR_TDTI would fire too; a report without obligations keeps it quiet.
    Variation("BR_LTI", "requested_amount", (D("299999.99"), D("300000.00"), D("300000.01")),
              (False, False, True), ("5.00", "5.00"), given={"monthly_obligations": None}),
    # (obligations + amount / 12) / income x 100 > 35: 750.00 + 1,000.00 is 35 % of 5,000.00
    Variation("BR_TDTI", "monthly_obligations", (D("749.99"), D("750.00"), D("750.01")),
              (False, False, True), ("35.00", "35.00")),
    # score < 550
    Variation("BR_SCORE", "credit_score", (549, 550, 551), (True, False, False), ("549", "550")),
    # score ≥ 700
    Variation("BR_SCORE_BONUS", "credit_score", (699, 700, 701), (False, True, True), ("700", "700")),
    # account_age ≥ 24
    Variation("BR_TENURE_BONUS", "account_age_months", (23, 24, 25), (False, True, True), ("24", "24")),
]  # fmt: skip

FLAGS = [
    Variation("BR_DEFAULTS", "has_defaults", (False, True, None), (False, True, False), ("true", "true")),
]


@pytest.mark.parametrize("case", THRESHOLDS, ids=str)
def test_threshold_rule_fires_exactly_as_its_comparator_says(case: Variation) -> None:
    check(Country.BR, case)


@pytest.mark.parametrize("case", FLAGS, ids=str)
def test_flag_rule_fires_only_when_the_flag_is_set(case: Variation) -> None:
    check(Country.BR, case)


def test_lti_over_5_brings_tdti_over_35_whenever_obligations_are_known() -> None:
    decision = decide_with(Country.BR, requested_amount=D("300000.01"), monthly_obligations=D("0.00"))

    assert fired(decision) == ["BR_LTI", "BR_TDTI"]


def test_every_rule_of_the_set_is_tested_at_its_boundary() -> None:
    assert covered_codes(THRESHOLDS, FLAGS) == {rule.code for rule in rule_set(Country.BR).rules}
