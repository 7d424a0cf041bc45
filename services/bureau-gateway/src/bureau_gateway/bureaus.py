"""The six bureaus: which one each country asks, its currency, its score scale and the incomes its
reports are sized to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType


class Country(StrEnum):
    """The countries we lend in, in SPEC §3's order (ListCircuits and the sandbox table follow it)."""

    ES = "ES"
    PT = "PT"
    IT = "IT"
    MX = "MX"
    CO = "CO"
    BR = "BR"


@dataclass(frozen=True)
class BureauProfile:
    """What a country's bureau looks like from outside: its name, currency and score scale."""

    country: Country
    provider: str
    currency: str
    score_min: int
    score_max: int
    typical_monthly_income: Decimal
    """What a typical applicant earns a month: the simulated debts are sized to it."""


_PROFILES = (
    BureauProfile(Country.ES, "ASNEF", "EUR", 300, 850, Decimal("3000.00")),
    BureauProfile(Country.PT, "BANCO_DE_PORTUGAL_CRC", "EUR", 300, 850, Decimal("1800.00")),
    BureauProfile(Country.IT, "CRIF", "EUR", 300, 850, Decimal("2600.00")),
    BureauProfile(Country.MX, "BURO_DE_CREDITO", "MXN", 400, 850, Decimal("25000.00")),
    BureauProfile(Country.CO, "DATACREDITO", "COP", 150, 950, Decimal("6000000.00")),
    BureauProfile(Country.BR, "SERASA", "BRL", 0, 1000, Decimal("8000.00")),
)

PROFILES: Mapping[Country, BureauProfile] = MappingProxyType({p.country: p for p in _PROFILES})
"""Every country's bureau, in `Country` order."""
