"""Money: the wire's strict amount strings, cents and half-even rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.money import Money, MoneyMalformed, format_amount, parse_amount, quantize_cents

# Every amount the wire may carry: 0 to 999,999,999,999.99 in cents.
cents = st.integers(min_value=0, max_value=10**14 - 1).map(lambda c: Decimal(c).scaleb(-2))


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("0", Decimal("0")),
        ("1500", Decimal("1500")),
        ("1500.5", Decimal("1500.5")),
        ("1500.50", Decimal("1500.50")),
        ("0.01", Decimal("0.01")),
        ("007.50", Decimal("7.50")),
        ("999999999999.99", Decimal("999999999999.99")),
    ],
)
def test_parse_amount_accepts_plain_decimals(text: str, amount: Decimal) -> None:
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "1500 ",
        " 1500",
        "1 500",
        "1,500",
        "1500,50",
        "1.500.000",
        "1500.",
        ".5",
        "1500.505",
        "-1",
        "+1",
        "1e3",
        "1E3",
        "1.5e-2",
        "NaN",
        "nan",
        "Infinity",
        "inf",
        "sNaN",
        "0x10",
        "1_000",
        "1000000000000",  # 13 integer digits: beyond NUMERIC(14,2)
        "\u0661\u0665\u0660\u0660",  # Arabic-Indic digits, which Decimal would accept
        "\uff11\uff15",  # full-width digits
        "1500\n",
    ],
)
def test_parse_amount_refuses_anything_else(text: str) -> None:
    with pytest.raises(MoneyMalformed) as info:
        parse_amount(text)
    assert info.value.reason == "MONEY_MALFORMED"
    assert info.value.description


@given(cents)
def test_parse_of_format_round_trips(amount: Decimal) -> None:
    text = format_amount(amount)
    assert parse_amount(text) == amount
    assert format_amount(parse_amount(text)) == text


@given(cents)
def test_format_always_has_two_fraction_digits(amount: Decimal) -> None:
    whole, _, fraction = format_amount(amount).partition(".")
    assert whole.isdigit()
    assert len(fraction) == 2


@given(st.integers(min_value=0, max_value=10**12 - 1), st.integers(min_value=100, max_value=10**6))
def test_three_or_more_fraction_digits_are_refused(whole: int, fraction: int) -> None:
    with pytest.raises(MoneyMalformed):
        parse_amount(f"{whole}.{fraction}")


@given(cents, st.sampled_from(["-", "+"]))
def test_a_sign_is_refused(amount: Decimal, sign: str) -> None:
    with pytest.raises(MoneyMalformed):
        parse_amount(sign + format_amount(amount))


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(["e", "E"]), st.integers(-5, 5))
def test_an_exponent_is_refused(mantissa: int, e: str, exponent: int) -> None:
    with pytest.raises(MoneyMalformed):
        parse_amount(f"{mantissa}{e}{exponent}")


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("0.125"), "0.12"),  # half to even: down
        (Decimal("0.135"), "0.14"),  # half to even: up
        (Decimal("2.5"), "2.50"),
        (Decimal("1E+3"), "1000.00"),  # never scientific notation
        (Decimal("-0.001"), "0.00"),  # no negative zero
        (Decimal("-1.005"), "-1.00"),
        (Decimal("12345678901234567890123456789.015"), "12345678901234567890123456789.02"),
    ],
)
def test_format_amount_rounds_half_even_in_plain_notation(amount: Decimal, text: str) -> None:
    assert format_amount(amount) == text


def test_quantize_cents_keeps_two_places() -> None:
    assert quantize_cents(Decimal("10")).as_tuple().exponent == -2
    assert quantize_cents(Decimal("10.005")) == Decimal("10.00")
    assert quantize_cents(Decimal("10.015")) == Decimal("10.02")


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_amounts_cannot_be_rounded(amount: Decimal) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        quantize_cents(amount)


def test_money_refuses_a_float() -> None:
    with pytest.raises(TypeError):
        Money("EUR", 10.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money("EUR", Decimal("NaN"))
    assert Money("EUR", Decimal("10.50")).amount == Decimal("10.50")
