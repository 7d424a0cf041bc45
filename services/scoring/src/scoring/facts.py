"""What the rules look at: the application's figures and the credit bureau's report, as plain values.

Money is `Decimal`, never float. A bureau figure that is `None` is absent, and a rule that needs it
does not fire. On a fallback report every bureau figure counts as absent, whatever it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

DEFAULT_TERM_MONTHS = 36


class Country(StrEnum):
    """A country the lender serves (ISO 3166-1 alpha-2)."""

    ES = "ES"
    PT = "PT"
    IT = "IT"
    MX = "MX"
    CO = "CO"
    BR = "BR"

    @property
    def currency(self) -> str:
        """The ISO 4217 code of the country's currency, used in reason messages."""
        return _CURRENCIES[self]


_CURRENCIES = {
    Country.ES: "EUR",
    Country.PT: "EUR",
    Country.IT: "EUR",
    Country.MX: "MXN",
    Country.CO: "COP",
    Country.BR: "BRL",
}


@dataclass(frozen=True, kw_only=True)
class ApplicationFacts:
    """The applicant's own figures, in the country's currency."""

    country: Country
    requested_amount: Decimal
    monthly_income: Decimal
    # Intake and the API keep terms within 6 to 120 months; the rules only need a positive divisor.
    term_months: int = DEFAULT_TERM_MONTHS

    def __post_init__(self) -> None:
        if not isinstance(self.country, Country):
            raise TypeError(f"country must be a Country, not {type(self.country).__name__}")
        _require_money("requested_amount", self.requested_amount, positive=True)
        # Income is the divisor of every ratio: zero would be a division by zero, not a risk signal.
        _require_money("monthly_income", self.monthly_income, positive=True)
        _require_count("term_months", self.term_months, positive=True)

    @property
    def annual_income(self) -> Decimal:
        """Twelve months of income."""
        return self.monthly_income * 12


@dataclass(frozen=True, kw_only=True)
class BureauFacts:
    """What the credit bureau reported. Every field is required so that a converter cannot forget one."""

    credit_score: int | None
    total_debt: Decimal | None
    monthly_obligations: Decimal | None
    has_defaults: bool | None
    account_age_months: int | None
    # A fallback report was made up because the bureau could not be reached (SPEC §6).
    fallback: bool = False

    def __post_init__(self) -> None:
        if self.credit_score is not None:
            _require_count("credit_score", self.credit_score, positive=False)
        if self.total_debt is not None:
            _require_money("total_debt", self.total_debt, positive=False)
        if self.monthly_obligations is not None:
            _require_money("monthly_obligations", self.monthly_obligations, positive=False)
        if self.has_defaults is not None and not isinstance(self.has_defaults, bool):
            raise TypeError("has_defaults must be a bool or None")
        if self.account_age_months is not None:
            _require_count("account_age_months", self.account_age_months, positive=False)
        if not isinstance(self.fallback, bool):
            raise TypeError("fallback must be a bool")

    @classmethod
    def unavailable(cls) -> BureauFacts:
        """The fallback report: the bureau could not be reached, so nothing is known."""
        return cls(
            credit_score=None,
            total_debt=None,
            monthly_obligations=None,
            has_defaults=None,
            account_age_months=None,
            fallback=True,
        )

    def known(self) -> BureauFacts:
        """The report as the rules may use it: on a fallback every figure is absent, never made up."""
        return BureauFacts.unavailable() if self.fallback else self


def _require_money(name: str, value: object, *, positive: bool) -> None:
    # A float would already have lost cents; refuse it rather than convert it.
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{name} must be finite")
    if positive and value <= 0:
        raise ValueError(f"{name} must be greater than zero")
    if value < 0:
        raise ValueError(f"{name} must not be negative")


def _require_count(name: str, value: object, *, positive: bool) -> None:
    # bool is an int subclass; True months or a True score is a bug upstream.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be greater than zero")
    if value < 0:
        raise ValueError(f"{name} must not be negative")
