"""The decision: outcome from the effects, the clamped risk score and its level, ranking, absent inputs."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from decimal import Decimal
from typing import Any

import pytest
from scoring_cases import D, decide_with, facts, fired

from scoring.engine import Outcome, RiskLevel, decide, risk_level
from scoring.facts import Country
from scoring.rules import BONUS
from scoring.rulesets import rule_set


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({}, Outcome.APPROVE),
        ({"credit_score": 780}, Outcome.APPROVE),  # a bonus alone
        ({"requested_amount": D("25000.00")}, Outcome.REVIEW),  # SOFT
        ({"has_defaults": True}, Outcome.REJECT),  # HARD
        ({"has_defaults": True, "requested_amount": D("25000.00")}, Outcome.REJECT),  # HARD beats SOFT
        ({"monthly_obligations": D("1200.00"), "credit_score": None}, Outcome.REJECT),
    ],
)
def test_hard_beats_soft_beats_approve(changes: dict[str, Any], outcome: Outcome) -> None:
    assert decide_with(Country.ES, **changes).outcome is outcome


@pytest.mark.parametrize(
    ("score", "level"),
    [
        ("0.00", RiskLevel.LOW),
        ("29.99", RiskLevel.LOW),
        ("30.00", RiskLevel.MEDIUM),
        ("49.99", RiskLevel.MEDIUM),
        ("50.00", RiskLevel.HIGH),
        ("69.99", RiskLevel.HIGH),
        ("70.00", RiskLevel.CRITICAL),
        ("100.00", RiskLevel.CRITICAL),
    ],
)
def test_risk_level_bands_are_below_30_below_50_below_70_and_the_rest(score: str, level: RiskLevel) -> None:
    assert risk_level(Decimal(score)) is level


@pytest.mark.parametrize(
    ("country", "changes", "codes", "score", "level"),
    [
        (Country.ES, {"credit_score": 599}, ["ES_SCORE"], "25.00", RiskLevel.LOW),
        (Country.ES, {"monthly_obligations": D("1200.00")}, ["ES_DTI"], "30.00", RiskLevel.MEDIUM),
        (
            Country.ES,
            {"monthly_obligations": D("1200.00"), "requested_amount": D("20000.01")},
            ["ES_DTI", "ES_AMOUNT_REVIEW"],
            "45.00",
            RiskLevel.MEDIUM,
        ),
        (
            Country.ES,
            {"monthly_obligations": D("1200.00"), "requested_amount": D("12600.01"), "term_months": 12},
            ["ES_DTI", "ES_PTI"],
            "50.00",
            RiskLevel.HIGH,
        ),
        (Country.ES, {"has_defaults": True, "credit_score": 599},
         ["ES_DEFAULTS", "ES_SCORE"], "65.00", RiskLevel.HIGH),
        (
            Country.ES,
            {"has_defaults": True, "monthly_obligations": D("1200.00")},
            ["ES_DEFAULTS", "ES_DTI"],
            "70.00",
            RiskLevel.CRITICAL,
        ),
        (Country.MX, {"credit_score": 549, "requested_amount": D("54000.00")},
         ["MX_SCORE", "MX_PTI_BONUS"], "25.00", RiskLevel.LOW),
        (Country.MX, {"credit_score": 549}, ["MX_SCORE"], "30.00", RiskLevel.MEDIUM),
    ],
)  # fmt: skip
def test_the_risk_score_is_the_sum_of_points_and_lands_in_its_band(
    country: Country, changes: dict[str, Any], codes: list[str], score: str, level: RiskLevel
) -> None:
    decision = decide_with(country, **changes)

    assert fired(decision) == codes
    assert (decision.risk_score, decision.risk_level) == (Decimal(score), level)


def test_the_risk_score_is_capped_at_100() -> None:
    # 40 + 30 + 25 + 20 + 15 = 130 points.
    decision = decide_with(
        Country.ES,
        has_defaults=True,
        monthly_obligations=D("1200.00"),
        credit_score=500,
        requested_amount=D("20000.01"),
        term_months=6,
    )

    assert sum(reason.points for reason in decision.reasons) == 130
    assert (decision.risk_score, decision.risk_level) == (D("100.00"), RiskLevel.CRITICAL)


def test_bonuses_never_take_the_risk_score_below_0() -> None:
    decision = decide_with(Country.CO, credit_score=800, account_age_months=40)

    assert [(reason.code, reason.points) for reason in decision.reasons] == [
        ("CO_TENURE_BONUS", -10),
        ("CO_SCORE_BONUS", -15),
    ]
    assert (decision.outcome, decision.risk_score, decision.risk_level) == (
        Outcome.APPROVE,
        D("0.00"),
        RiskLevel.LOW,
    )


@pytest.mark.parametrize(
    ("changes", "outcome", "score"),
    [
        ({"monthly_obligations": D("1200.00")}, Outcome.REJECT, "20.00"),
        ({"requested_amount": D("25000.00")}, Outcome.REVIEW, "5.00"),
        ({}, Outcome.APPROVE, "0.00"),
    ],
)
def test_a_bonus_takes_points_away_without_changing_the_outcome(
    changes: dict[str, Any], outcome: Outcome, score: str
) -> None:
    without = decide_with(Country.ES, **changes)
    with_bonus = decide_with(Country.ES, **changes, credit_score=780)

    assert "ES_SCORE_BONUS" in fired(with_bonus)
    assert with_bonus.outcome is without.outcome is outcome
    assert with_bonus.risk_score == Decimal(score)


def test_the_risk_score_always_has_two_decimals() -> None:
    for decision in (decide_with(Country.ES), decide_with(Country.ES, has_defaults=True)):
        assert decision.risk_score.as_tuple().exponent == -2


def test_reasons_rank_by_points_then_by_table_order() -> None:
    # Table order: MX_LTI, MX_PTI, MX_SCORE, MX_TDTI, MX_DEFAULTS.
    decision = decide_with(Country.MX, requested_amount=D("360000.01"), credit_score=500, has_defaults=True)

    assert [(reason.code, reason.points) for reason in decision.reasons] == [
        ("MX_LTI", 35),
        ("MX_DEFAULTS", 35),
        ("MX_SCORE", 30),
        ("MX_TDTI", 30),
        ("MX_PTI", 25),
    ]


def test_equal_points_keep_the_table_order_in_portugal() -> None:
    decision = decide_with(Country.PT, requested_amount=D("96000.01"), credit_score=599)

    assert fired(decision) == ["PT_LTI", "PT_SCORE", "PT_PTI"]


def test_a_zero_point_rule_ranks_after_the_others_and_before_bonuses() -> None:
    decision = decide_with(Country.MX, fallback=True, requested_amount=D("54000.00"), has_defaults=None)
    assert fired(decision) == ["BUREAU_FALLBACK", "MX_PTI_BONUS"]

    decision = decide_with(Country.ES, requested_amount=D("25000.00"), fallback=True)
    assert fired(decision) == ["ES_AMOUNT_REVIEW", "BUREAU_FALLBACK"]


def test_the_principal_reasons_are_the_first_four() -> None:
    decision = decide_with(Country.MX, requested_amount=D("360000.01"), credit_score=500, has_defaults=True)

    assert decision.principal_reasons == decision.reasons[:4]
    assert [reason.code for reason in decision.principal_reasons] == [
        "MX_LTI",
        "MX_DEFAULTS",
        "MX_SCORE",
        "MX_TDTI",
    ]


def test_fewer_than_four_reasons_are_all_principal() -> None:
    decision = decide_with(Country.ES, credit_score=780)

    assert [reason.effect for reason in decision.principal_reasons] == [BONUS]


@pytest.mark.parametrize(
    ("country", "changes", "silent"),
    [
        # Every score rule and bonus is silent without a score; only BUREAU_NO_SCORE speaks.
        (Country.ES, {"credit_score": None}, ["ES_SCORE", "ES_SCORE_BONUS"]),
        (Country.MX, {"credit_score": None}, ["MX_SCORE", "MX_SCORE_BONUS"]),
        # Ratios of obligations are silent without obligations, however large the rest.
        (Country.ES, {"monthly_obligations": None, "monthly_income": D("1.00")}, ["ES_DTI"]),
        (Country.MX, {"monthly_obligations": None, "requested_amount": D("100000.00")}, ["MX_TDTI"]),
        (Country.CO, {"monthly_obligations": None, "requested_amount": D("49000000.00")}, ["CO_TDTI"]),
        (Country.CO, {"total_debt": None, "monthly_income": D("1.00")}, ["CO_TOTAL_DEBT"]),
        (Country.CO, {"account_age_months": None}, ["CO_TENURE_BONUS"]),
        (Country.IT, {"has_defaults": None}, ["IT_DEFAULTS"]),
    ],
)
def test_a_rule_whose_input_is_absent_does_not_fire(
    country: Country, changes: dict[str, Any], silent: list[str]
) -> None:
    codes = fired(decide_with(country, **changes))

    assert not set(codes) & set(silent)


def test_without_a_score_the_other_bureau_rules_still_run() -> None:
    assert fired(decide_with(Country.BR, credit_score=None, account_age_months=30)) == [
        "BUREAU_NO_SCORE",
        "BR_TENURE_BONUS",
    ]


def test_the_decision_names_the_rule_set_version_it_used() -> None:
    assert decide_with(Country.CO).rule_set_version == "CO-2026.1"


def test_a_decision_replays_exactly_from_its_version() -> None:
    application, bureau = facts(Country.IT, has_defaults=True, credit_score=None)
    original = decide(application, bureau)

    replayed = decide(application, bureau, rule_set=rule_set(Country.IT, original.rule_set_version))

    assert replayed == original


def test_another_countrys_rule_set_is_refused() -> None:
    application, bureau = facts(Country.IT)

    with pytest.raises(ValueError, match="not for IT"):
        decide(application, bureau, rule_set=rule_set(Country.ES))


def test_a_decision_is_immutable() -> None:
    decision = decide_with(Country.ES)

    with pytest.raises(FrozenInstanceError):
        decision.outcome = Outcome.REJECT  # type: ignore[misc]
