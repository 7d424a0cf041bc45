"""The ratios of SPEC §6: exact at their thresholds, independent of the caller's decimal context, and in
agreement with exact rational arithmetic."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, localcontext
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from scoring import ratios

D = Decimal


def test_dti_is_obligations_over_income_in_percent() -> None:
    assert ratios.dti(D("1275.00"), D("3000.00")) == D("42.5")


def test_pti_is_the_monthly_instalment_over_income_in_percent() -> None:
    assert ratios.pti(D("12600.00"), D("3000.00"), 12) == D("35")


def test_tdti_adds_the_instalment_to_the_obligations() -> None:
    assert ratios.tdti(D("2500.00"), D("72000.00"), D("10000.00"), 36) == D("45")


def test_tdti_over_12_months_spreads_the_amount_over_a_year() -> None:
    assert ratios.tdti(D("700000.00"), D("6000000.00"), D("3000000.00"), 12) == D("40")


def test_lti_is_the_amount_over_annual_income() -> None:
    assert ratios.lti(D("96000.00"), D("2000.00")) == D("4")


def test_a_cent_below_a_threshold_stays_below_it_even_when_it_would_show_as_equal() -> None:
    dti = ratios.dti(D("1199.99"), D("3000.00"))

    assert dti < 40
    assert dti.quantize(D("0.01")) == D("40.00")


def test_ratios_ignore_the_callers_decimal_context() -> None:
    expected = ratios.tdti(D("1333.33"), D("47999.99"), D("3333.33"), 37)

    with localcontext() as context:
        context.prec = 3
        context.rounding = ROUND_DOWN
        assert ratios.tdti(D("1333.33"), D("47999.99"), D("3333.33"), 37) == expected


cents = st.integers(min_value=1, max_value=10**12).map(lambda c: Decimal(c).scaleb(-2))
terms = st.integers(min_value=1, max_value=360)
# Every threshold SPEC §6 compares a ratio with.
thresholds = st.sampled_from([D(t) for t in ("3", "4", "5", "15", "30", "35", "40", "45")])


def _exact(value: Decimal) -> Fraction:
    return Fraction(value)


@given(obligations=cents, amount=cents, income=cents, term=terms, threshold=thresholds)
def test_every_ratio_compares_with_a_threshold_as_exact_arithmetic_does(
    obligations: Decimal, amount: Decimal, income: Decimal, term: int, threshold: Decimal
) -> None:
    o, a, i, t = _exact(obligations), _exact(amount), _exact(income), Fraction(term)
    exact = {
        "dti": o / i * 100,
        "pti": (a / t) / i * 100,
        "tdti": (o + a / t) / i * 100,
        "lti": a / (i * 12),
    }
    computed = {
        "dti": ratios.dti(obligations, income),
        "pti": ratios.pti(amount, income, term),
        "tdti": ratios.tdti(obligations, amount, income, term),
        "lti": ratios.lti(amount, income),
    }
    limit = _exact(threshold)
    for name, value in computed.items():
        assert (value > threshold) == (exact[name] > limit), name
        assert (value == threshold) == (exact[name] == limit), name
