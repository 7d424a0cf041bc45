"""Portugal's rules at their thresholds: just below, at and just above, one input changed at a time."""

from __future__ import annotations

import pytest
from scoring_cases import D, Variation, check, covered_codes, decide_with, fired

from scoring.facts import Country
from scoring.rulesets import rule_set

# Income 2,000.00 and a 36-month term unless `given` says otherwise.
THRESHOLDS = [
    # LTI > 4: 96,000.00 is 4 x 24,000.00 of annual income. Any term up to 120 months would put PTI over
    # 35 % too, so a 360-month term keeps PT_PTI quiet (the engine takes any positive term).
    Variation("PT_LTI", "requested_amount", (D("95999.99"), D("96000.00"), D("96000.01")),
              (False, False, True), ("4.00", "4.00"), given={"term_months": 360}),
    # DTI ≥ 40: obligations of 800.00 are 40 % of 2,000.00
    Variation("PT_DTI", "monthly_obligations", (D("799.99"), D("800.00"), D("800.01")),
              (False, True, True), ("40.00", "40.00")),
    # score < 600
    Variation("PT_SCORE", "credit_score", (599, 600, 601), (True, False, False), ("599", "600")),
    # PTI > 35: 25,200.00 over 36 months is 35 % of 2,000.00
    Variation("PT_PTI", "requested_amount", (D("25199.99"), D("25200.00"), D("25200.01")),
              (False, False, True), ("35.00", "35.00")),
    # score ≥ 750
    Variation("PT_SCORE_BONUS", "credit_score", (749, 750, 751), (False, True, True), ("750", "750")),
]  # fmt: skip

FLAGS = [
    Variation("PT_DEFAULTS", "has_defaults", (False, True, None), (False, True, False), ("true", "true")),
]


@pytest.mark.parametrize("case", THRESHOLDS, ids=str)
def test_threshold_rule_fires_exactly_as_its_comparator_says(case: Variation) -> None:
    check(Country.PT, case)


@pytest.mark.parametrize("case", FLAGS, ids=str)
def test_flag_rule_fires_only_when_the_flag_is_set(case: Variation) -> None:
    check(Country.PT, case)


def test_lti_over_4_brings_pti_over_35_with_any_term_up_to_120_months() -> None:
    decision = decide_with(Country.PT, requested_amount=D("96000.01"), term_months=120)

    assert fired(decision) == ["PT_LTI", "PT_PTI"]


def test_every_rule_of_the_set_is_tested_at_its_boundary() -> None:
    assert covered_codes(THRESHOLDS, FLAGS) == {rule.code for rule in rule_set(Country.PT).rules}
