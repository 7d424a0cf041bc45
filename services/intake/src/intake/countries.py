"""The six countries intake serves, the limits each one fixes (SPEC §3 and §5) and their region codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType


class Country(StrEnum):
    """A country where the lender takes applications (ISO 3166-1 alpha-2)."""

    ES = "ES"
    PT = "PT"
    IT = "IT"
    MX = "MX"
    CO = "CO"
    BR = "BR"


@dataclass(frozen=True)
class CountryRules:
    """What a country fixes for every application: its currency and its limits, in that currency."""

    currency: str
    max_amount: Decimal
    min_monthly_income: Decimal
    # An analyst's approval of a larger amount needs a second, different analyst (SPEC §5).
    four_eyes_threshold: Decimal


RULES: Mapping[Country, CountryRules] = MappingProxyType(
    {
        Country.ES: CountryRules("EUR", Decimal("50000.00"), Decimal("1500.00"), Decimal("30000.00")),
        Country.PT: CountryRules("EUR", Decimal("30000.00"), Decimal("800.00"), Decimal("30000.00")),
        Country.IT: CountryRules("EUR", Decimal("50000.00"), Decimal("1200.00"), Decimal("30000.00")),
        Country.MX: CountryRules("MXN", Decimal("200000.00"), Decimal("5000.00"), Decimal("150000.00")),
        Country.CO: CountryRules(
            "COP", Decimal("50000000.00"), Decimal("1500000.00"), Decimal("30000000.00")
        ),
        Country.BR: CountryRules("BRL", Decimal("100000.00"), Decimal("2000.00"), Decimal("60000.00")),
    }
)


# RENAPO's state codes as written in a CURP: the 32 federal entities and NE (born abroad).
# stdnum keeps the same list, privately.
MEXICAN_STATE_CODES = frozenset(
    {
        "AS", "BC", "BS", "CC", "CL", "CM", "CS", "CH", "DF", "DG", "GT", "GR", "HG", "JC", "MC", "MN", "MS",
        "NT", "NL", "OC", "PL", "QT", "QR", "SP", "SL", "SR", "TC", "TS", "TL", "VZ", "YN", "ZS", "NE",
    }
)  # fmt: skip
# Brazil's 27 federative units (26 states and the Federal District).
BRAZILIAN_STATE_CODES = frozenset(
    {
        "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
        "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO",
    }
)  # fmt: skip


def requires_four_eyes(country: Country, requested_amount: Decimal) -> bool:
    """Whether approving this amount needs a second analyst: only amounts strictly above the threshold."""
    return requested_amount > RULES[country].four_eyes_threshold
