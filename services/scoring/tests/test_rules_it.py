"""Italy's rules at their thresholds: just below, at and just above, one input changed at a time."""

from __future__ import annotations

import pytest
from scoring_cases import D, Variation, check, covered_codes

from scoring.facts import Country
from scoring.rulesets import rule_set

# Income 2,000.00 and a 36-month term unless `given` says otherwise.
THRESHOLDS = [
    # DTI > 35: obligations of 700.00 are 35 % of 2,000.00
    Variation("IT_DTI", "monthly_obligations", (D("699.99"), D("700.00"), D("700.01")),
              (False, False, True), ("35.00", "35.00")),
    # score < 600
    Variation("IT_SCORE", "credit_score", (599, 600, 601), (True, False, False), ("599", "600")),
    # amount > 2 x income x 12 = 48,000.00; over 120 months that is a PTI of 20 %, so IT_PTI stays quiet.
    # The reason shows the amount against 24 x income, both as money.
    Variation("IT_STABILITY", "requested_amount", (D("47999.99"), D("48000.00"), D("48000.01")),
              (False, False, True), ("48000.01", "48000.00"), given={"term_months": 120}),
    # PTI > 30: 21,600.00 over 36 months is 30 % of 2,000.00
    Variation("IT_PTI", "requested_amount", (D("21599.99"), D("21600.00"), D("21600.01")),
              (False, False, True), ("30.00", "30.00")),
    # score ≥ 750
    Variation("IT_SCORE_BONUS", "credit_score", (749, 750, 751), (False, True, True), ("750", "750")),
]  # fmt: skip

FLAGS = [
    Variation("IT_DEFAULTS", "has_defaults", (False, True, None), (False, True, False), ("true", "true")),
]


@pytest.mark.parametrize("case", THRESHOLDS, ids=str)
def test_threshold_rule_fires_exactly_as_its_comparator_says(case: Variation) -> None:
    check(Country.IT, case)


@pytest.mark.parametrize("case", FLAGS, ids=str)
def test_flag_rule_fires_only_when_the_flag_is_set(case: Variation) -> None:
    check(Country.IT, case)


def test_every_rule_of_the_set_is_tested_at_its_boundary() -> None:
    assert covered_codes(THRESHOLDS, FLAGS) == {rule.code for rule in rule_set(Country.IT).rules}
