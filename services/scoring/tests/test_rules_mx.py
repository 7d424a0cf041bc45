"""Mexico's rules at their thresholds: just below, at and just above, one input changed at a time."""

from __future__ import annotations

import pytest
from scoring_cases import D, Variation, check, covered_codes, decide_with, fired

from scoring.engine import Outcome
from scoring.facts import Country
from scoring.rulesets import rule_set

# Income 10,000.00, obligations 1,000.00 and a 36-month term unless `given` says otherwise.
THRESHOLDS = [
    # LTI > 3: 360,000.00 is 3 x 120,000.00 of annual income. Any term up to 120 months would put PTI
    # over 30 % too, so a 200-month term (PTI 18 %) keeps MX_PTI and MX_PTI_BONUS quiet.
    Variation("MX_LTI", "requested_amount", (D("359999.99"), D("360000.00"), D("360000.01")),
              (False, False, True), ("3.00", "3.00"), given={"term_months": 200}),
    # PTI > 30: 108,000.00 over 36 months is 30 % of 10,000.00 (TDTI 40 %)
    Variation("MX_PTI", "requested_amount", (D("107999.99"), D("108000.00"), D("108000.01")),
              (False, False, True), ("30.00", "30.00")),
    # score < 550
    Variation("MX_SCORE", "credit_score", (549, 550, 551), (True, False, False), ("549", "550")),
    # TDTI > 45: obligations of 2,500.00 plus 2,000.00 a month for the loan are 45 % of 10,000.00
    Variation("MX_TDTI", "monthly_obligations", (D("2499.99"), D("2500.00"), D("2500.01")),
              (False, False, True), ("45.00", "45.00")),
    # PTI ≤ 15: 54,000.00 over 36 months is 15 % of 10,000.00
    Variation("MX_PTI_BONUS", "requested_amount", (D("53999.99"), D("54000.00"), D("54000.01")),
              (True, True, False), ("15.00", "15.00")),
    # score ≥ 700
    Variation("MX_SCORE_BONUS", "credit_score", (699, 700, 701), (False, True, True), ("700", "700")),
]  # fmt: skip

FLAGS = [
    Variation("MX_DEFAULTS", "has_defaults", (False, True, None), (False, True, False), ("true", "true")),
]


@pytest.mark.parametrize("case", THRESHOLDS, ids=str)
def test_threshold_rule_fires_exactly_as_its_comparator_says(case: Variation) -> None:
    check(Country.MX, case)


@pytest.mark.parametrize("case", FLAGS, ids=str)
def test_flag_rule_fires_only_when_the_flag_is_set(case: Variation) -> None:
    check(Country.MX, case)


def test_active_defaults_send_a_mexican_application_to_review_not_rejection() -> None:
    decision = decide_with(Country.MX, has_defaults=True)

    assert decision.outcome is Outcome.REVIEW


def test_lti_over_3_brings_pti_over_30_with_any_term_up_to_120_months() -> None:
    decision = decide_with(Country.MX, requested_amount=D("360000.01"), term_months=120)

    assert fired(decision) == ["MX_LTI", "MX_PTI"]


def test_every_rule_of_the_set_is_tested_at_its_boundary() -> None:
    assert covered_codes(THRESHOLDS, FLAGS) == {rule.code for rule in rule_set(Country.MX).rules}
