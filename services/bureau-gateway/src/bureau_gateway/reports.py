"""What a bureau answers: the applicant's credit file, and the report around it (real or fallback).

Money is `Decimal` with exactly two places, never float. Nothing here carries the document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bureau_gateway.bureaus import BureauProfile

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(cents: int) -> Decimal:
    """An amount from a whole number of cents, with exactly two places."""
    return Decimal(cents).scaleb(-2).quantize(CENT)


@dataclass(frozen=True)
class CreditFile:
    """What the bureau knows of the applicant. Amounts are in the country's currency."""

    credit_score: int | None
    """On the bureau's own scale; None when the bureau holds no score for the applicant."""
    total_debt: Decimal
    monthly_obligations: Decimal
    has_defaults: bool
    account_age_months: int
    """Age of the oldest credit account."""


NO_FILE = CreditFile(
    credit_score=None, total_debt=ZERO, monthly_obligations=ZERO, has_defaults=False, account_age_months=0
)
"""A fallback's contents: nothing known, nothing made up that could pass for a real finding."""


@dataclass(frozen=True)
class BureauReport:
    """One answer to one enquiry. `report_id` and `report_time` belong to the enquiry; `credit` is the
    same for every enquiry about the same applicant."""

    provider: str
    currency: str
    credit: CreditFile
    report_time: datetime
    report_id: str = ""
    fallback: bool = False


def fallback_report(profile: BureauProfile, at: datetime) -> BureauReport:
    """The report answered when the bureau could not be asked: scoring sends it to a person."""
    return BureauReport(
        provider=profile.provider,
        currency=profile.currency,
        credit=NO_FILE,
        report_time=at,
        report_id="",
        fallback=True,
    )
