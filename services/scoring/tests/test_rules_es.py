"""Spain's rules at their thresholds: just below, at and just above, one input changed at a time."""

from __future__ import annotations

import pytest
from scoring_cases import D, Variation, check, covered_codes

from scoring.facts import Country
from scoring.rulesets import rule_set

# Income 3,000.00 and a 36-month term unless `given` says otherwise.
THRESHOLDS = [
    # amount > 20,000
    Variation("ES_AMOUNT_REVIEW", "requested_amount", (D("19999.99"), D("20000.00"), D("20000.01")),
              (False, False, True), ("20000.01", "20000.00")),
    # DTI ≥ 40: obligations of 1,200.00 are 40 % of 3,000.00
    Variation("ES_DTI", "monthly_obligations", (D("1199.99"), D("1200.00"), D("1200.01")),
              (False, True, True), ("40.00", "40.00")),
    # score < 600
    Variation("ES_SCORE", "credit_score", (599, 600, 601), (True, False, False), ("599", "600")),
    # PTI > 35: 12,600.00 over 12 months is 35 % of 3,000.00 (and stays under the 20,000 review amount)
    Variation("ES_PTI", "requested_amount", (D("12599.99"), D("12600.00"), D("12600.01")),
              (False, False, True), ("35.00", "35.00"), given={"term_months": 12}),
    # score ≥ 750
    Variation("ES_SCORE_BONUS", "credit_score", (749, 750, 751), (False, True, True), ("750", "750")),
]  # fmt: skip

FLAGS = [
    Variation("ES_DEFAULTS", "has_defaults", (False, True, None), (False, True, False), ("true", "true")),
]


@pytest.mark.parametrize("case", THRESHOLDS, ids=str)
def test_threshold_rule_fires_exactly_as_its_comparator_says(case: Variation) -> None:
    check(Country.ES, case)


@pytest.mark.parametrize("case", FLAGS, ids=str)
def test_flag_rule_fires_only_when_the_flag_is_set(case: Variation) -> None:
    check(Country.ES, case)


def test_every_rule_of_the_set_is_tested_at_its_boundary() -> None:
    assert covered_codes(THRESHOLDS, FLAGS) == {rule.code for rule in rule_set(Country.ES).rules}
