"""Country rules: SPEC §3's limits and §5's four-eyes thresholds, and the region code lists."""

from __future__ import annotations

from decimal import Decimal

import pytest
from stdnum.mx import curp

from intake.countries import (
    BRAZILIAN_STATE_CODES,
    MEXICAN_STATE_CODES,
    RULES,
    Country,
    CountryRules,
    requires_four_eyes,
)


def test_rules_are_exactly_the_specs() -> None:
    assert dict(RULES) == {
        Country.ES: CountryRules("EUR", Decimal("50000.00"), Decimal("1500.00"), Decimal("30000")),
        Country.PT: CountryRules("EUR", Decimal("30000.00"), Decimal("800.00"), Decimal("30000")),
        Country.IT: CountryRules("EUR", Decimal("50000.00"), Decimal("1200.00"), Decimal("30000")),
        Country.MX: CountryRules("MXN", Decimal("200000.00"), Decimal("5000.00"), Decimal("150000")),
        Country.CO: CountryRules("COP", Decimal("50000000.00"), Decimal("1500000.00"), Decimal("30000000")),
        Country.BR: CountryRules("BRL", Decimal("100000.00"), Decimal("2000.00"), Decimal("60000")),
    }


def test_every_country_has_rules_and_every_limit_is_a_decimal_in_cents() -> None:
    assert set(RULES) == set(Country)
    for rules in RULES.values():
        for limit in (rules.max_amount, rules.min_monthly_income, rules.four_eyes_threshold):
            assert isinstance(limit, Decimal)
            assert limit.as_tuple().exponent == -2


def test_country_values_are_iso_codes() -> None:
    assert [c.value for c in Country] == ["ES", "PT", "IT", "MX", "CO", "BR"]


@pytest.mark.parametrize("country", list(Country))
def test_four_eyes_applies_only_above_the_threshold(country: Country) -> None:
    threshold = RULES[country].four_eyes_threshold
    assert not requires_four_eyes(country, threshold)
    assert requires_four_eyes(country, threshold + Decimal("0.01"))


def test_mexican_state_codes_match_stdnums_curp_list() -> None:
    # stdnum keeps its list private; this catches either side drifting.
    assert curp._valid_states == MEXICAN_STATE_CODES
    assert len(MEXICAN_STATE_CODES) == 33
    assert "NE" in MEXICAN_STATE_CODES


def test_brazil_has_27_federative_units() -> None:
    assert len(BRAZILIAN_STATE_CODES) == 27
    assert {"SP", "RJ", "DF", "TO"} <= BRAZILIAN_STATE_CODES
