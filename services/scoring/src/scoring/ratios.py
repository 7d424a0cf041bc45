"""The financial ratios of SPEC §6, in exact `Decimal` arithmetic.

Each ratio is written as a single division so that only one rounding happens, and that one at 50
significant digits, far beyond the cents of the inputs: a ratio that equals a threshold comes out
exactly equal, and one a cent away from it never rounds onto it. Values are never rounded here;
rounding to two places is for presentation only.
"""

from __future__ import annotations

from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)

# Explicit, so that a caller's decimal context (28 digits by default, or anything they set) cannot
# change a decision.
EXACT = Context(prec=50, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])

HUNDRED = Decimal(100)
MONTHS_PER_YEAR = 12


def dti(obligations: Decimal, income: Decimal) -> Decimal:
    """Debt to income, in percent: `obligations / income * 100`."""
    with localcontext(EXACT):
        return obligations * HUNDRED / income


def pti(amount: Decimal, income: Decimal, term_months: int) -> Decimal:
    """Payment to income, in percent: `(amount / term) / income * 100`."""
    with localcontext(EXACT):
        return amount * HUNDRED / (term_months * income)


def tdti(obligations: Decimal, amount: Decimal, income: Decimal, term_months: int) -> Decimal:
    """Total debt to income, in percent: `(obligations + amount / term) / income * 100`.

    CO_TDTI and BR_TDTI spread the amount over 12 months whatever the term: call it with
    `term_months=12`.
    """
    with localcontext(EXACT):
        return (obligations * term_months + amount) * HUNDRED / (term_months * income)


def lti(amount: Decimal, income: Decimal) -> Decimal:
    """Loan to income, as a multiple of annual income: `amount / (income * 12)`."""
    with localcontext(EXACT):
        return amount / (income * MONTHS_PER_YEAR)
