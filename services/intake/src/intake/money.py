"""Money as intake handles it: `Decimal` amounts parsed from the wire's strict decimal strings.

Never float. Amounts are rounded (half-even, to cents) only when stored or presented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from intake.errors import DomainError

CENTS = Decimal("0.01")

# [0-9], not \d: Python's \d also matches other scripts' digits ("١٢٣"), which Decimal would accept.
# Twelve integer digits and two fraction digits fit PostgreSQL's NUMERIC(14,2) exactly.
_AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?")


class MoneyMalformed(DomainError):
    """An amount string is not a plain non-negative decimal with at most two fraction digits."""

    def __init__(self, description: str) -> None:
        super().__init__("MONEY_MALFORMED", description)


@dataclass(frozen=True)
class Money:
    """An amount in one currency (ISO 4217 alphabetic code)."""

    currency: str
    amount: Decimal

    def __post_init__(self) -> None:
        # A float slipping in here would silently lose cents somewhere downstream.
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise TypeError("Money.amount must be a finite Decimal")


def parse_amount(text: str) -> Decimal:
    """Parse the wire's amount string (`1500`, `1500.5`, `1500.50`); refuse anything else.

    Refused: signs, exponents, spaces, grouping separators, a comma for a decimal point, NaN and
    Infinity, more than two fraction digits and more than twelve integer digits.
    """
    if not _AMOUNT.fullmatch(text):
        raise MoneyMalformed(
            "the amount must be a plain decimal number with up to 12 integer digits and at most "
            "2 fraction digits, without sign, exponent, spaces or grouping"
        )
    return Decimal(text)


def quantize_cents(amount: Decimal) -> Decimal:
    """Round to cents, half to even (banker's rounding), as money is stored and shown."""
    if not amount.is_finite():
        raise ValueError("cannot round a non-finite amount")
    with localcontext() as context:
        # The default 28 significant digits would make quantize fail on very large amounts.
        context.prec = max(context.prec, amount.adjusted() + 3)
        rounded = amount.quantize(CENTS, rounding=ROUND_HALF_EVEN)
    # -0.00 would be printed with its sign; there is no negative zero in money.
    return rounded.copy_abs() if rounded.is_zero() else rounded


def format_amount(amount: Decimal) -> str:
    """The wire form of an amount: plain notation, always exactly two fraction digits."""
    return f"{quantize_cents(amount):f}"
