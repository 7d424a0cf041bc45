"""Properties of every decision on realistic figures: the score's range and form, the outcome's derivation
from the effects, determinism, and no floats anywhere."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import ROUND_FLOOR, Decimal, localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.engine import Decision, Outcome, RiskLevel, decide, observe, risk_level
from scoring.facts import ApplicationFacts, BureauFacts, Country
from scoring.rules import BONUS, HARD, SOFT
from scoring.rulesets import rule_set

D = Decimal

# SPEC §3: (max amount, min monthly income) per country. The ranges below go past both on purpose.
LIMITS = {
    Country.ES: (D("50000"), D("1500")),
    Country.PT: (D("30000"), D("800")),
    Country.IT: (D("50000"), D("1200")),
    Country.MX: (D("200000"), D("5000")),
    Country.CO: (D("50000000"), D("1500000")),
    Country.BR: (D("100000"), D("2000")),
}


def _money(low: Decimal, high: Decimal) -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=int(low * 100), max_value=int(high * 100)).map(
        lambda c: Decimal(c).scaleb(-2)
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[ApplicationFacts, BureauFacts]:
    country = draw(st.sampled_from(list(Country)))
    max_amount, min_income = LIMITS[country]
    income = draw(_money(min_income / 2, min_income * 30))
    application = ApplicationFacts(
        country=country,
        requested_amount=draw(_money(D("1"), max_amount * 2)),
        monthly_income=income,
        term_months=draw(st.integers(min_value=6, max_value=120)),
    )
    bureau = BureauFacts(
        credit_score=draw(st.none() | st.integers(min_value=300, max_value=900)),
        total_debt=draw(st.none() | _money(D("0"), income * 12)),
        monthly_obligations=draw(st.none() | _money(D("0"), income)),
        has_defaults=draw(st.none() | st.booleans()),
        account_age_months=draw(st.none() | st.integers(min_value=0, max_value=480)),
        fallback=draw(st.booleans()),
    )
    return application, bureau


MACHINE = re.compile(r"true|[0-9]+(\.[0-9]{2})?")


def _effects(decision: Decision) -> set[str]:
    return {reason.effect for reason in decision.reasons}


@settings(max_examples=400)
@given(cases())
def test_the_risk_score_is_between_0_and_100_with_two_decimals(
    case: tuple[ApplicationFacts, BureauFacts],
) -> None:
    decision = decide(*case)

    assert D("0.00") <= decision.risk_score <= D("100.00")
    assert decision.risk_score.as_tuple().exponent == -2
    points = sum(reason.points for reason in decision.reasons)
    assert decision.risk_score == min(max(D(points), D(0)), D(100))
    assert decision.risk_level is risk_level(decision.risk_score)


@settings(max_examples=400)
@given(cases())
def test_a_hard_rule_always_rejects(case: tuple[ApplicationFacts, BureauFacts]) -> None:
    decision = decide(*case)

    assert (HARD in _effects(decision)) == (decision.outcome is Outcome.REJECT)


@settings(max_examples=400)
@given(cases())
def test_approval_means_no_hard_or_soft_rule_fired(case: tuple[ApplicationFacts, BureauFacts]) -> None:
    decision = decide(*case)

    assert (decision.outcome is Outcome.APPROVE) == (not _effects(decision) & {HARD, SOFT})


@given(cases())
def test_bonuses_never_change_the_outcome(case: tuple[ApplicationFacts, BureauFacts]) -> None:
    application, bureau = case
    rules = rule_set(application.country)
    without_bonuses = replace(rules, rules=tuple(rule for rule in rules.rules if rule.effect is not BONUS))

    assert (
        decide(application, bureau).outcome is decide(application, bureau, rule_set=without_bonuses).outcome
    )


@given(cases())
def test_reasons_are_ranked_by_points(case: tuple[ApplicationFacts, BureauFacts]) -> None:
    points = [reason.points for reason in decide(*case).reasons]

    assert points == sorted(points, reverse=True)


@given(cases())
def test_a_fallback_report_is_never_approved_and_never_read(
    case: tuple[ApplicationFacts, BureauFacts],
) -> None:
    application, bureau = case
    decision = decide(application, replace(bureau, fallback=True))
    rules = rule_set(application.country)

    assert decision.outcome is not Outcome.APPROVE
    for reason in decision.reasons:
        measure = rules.rule(reason.code).measure
        assert reason.code == "BUREAU_FALLBACK" or not measure.needs_bureau
    # Not even the absence of a score is an observation on a fallback report.
    assert observe(rules.rule("BUREAU_NO_SCORE").measure, application, BureauFacts.unavailable()) is None


@given(cases())
def test_the_same_facts_always_give_the_same_decision(case: tuple[ApplicationFacts, BureauFacts]) -> None:
    first = decide(*case)

    with localcontext() as context:
        # Whatever decimal context the caller runs under.
        context.prec = 4
        context.rounding = ROUND_FLOOR
        second = decide(*case)

    assert first == second
    assert first.rule_set_version == rule_set(case[0].country).version


@given(cases())
def test_no_float_appears_in_a_decision(case: tuple[ApplicationFacts, BureauFacts]) -> None:
    decision = decide(*case)

    assert type(decision.risk_score) is Decimal
    assert isinstance(decision.risk_level, RiskLevel)
    for reason in decision.reasons:
        assert type(reason.points) is int
        assert MACHINE.fullmatch(reason.observed), reason.observed
        assert MACHINE.fullmatch(reason.threshold), reason.threshold
        for _, sentence in reason.messages.items():
            assert sentence
            assert "{" not in sentence
