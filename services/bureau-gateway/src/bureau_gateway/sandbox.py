"""Sandbox identities: valid national documents whose simulated bureau answer is fixed, so that anyone
can walk an application down each path on demand, like a payment provider's test cards.

Per country: a clean approval, a review (the bureau has no score: BUREAU_NO_SCORE), a rejection (a score
under the country's hard threshold), a bureau timeout and a bureau outage (both end in a fallback report,
which scoring sends to review). The expected decisions assume the typical application of
`tools/samples/applications.py` (amount, income, 36 months) and were checked by hand against SPEC §6;
`tests/test_sandbox.py` checks them again.

Every document passes its country's checks (check digits from python-stdnum, PT individuals, adult CURPs)
and none is one of SPEC §3's test vectors, which other tests use.

A timeout or outage identity fails every attempt of its call, and each failure counts towards the
country's circuit: with the default settings (3 attempts, 5 failures to open) two such calls in a row
open the circuit, and the country's other identities get fallbacks until the cool-down ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from bureau_gateway.bureaus import PROFILES, Country
from bureau_gateway.reports import CreditFile


class Scenario(StrEnum):
    APPROVE = "approve"
    REVIEW = "review"
    REJECT = "reject"
    TIMEOUT = "timeout"
    OUTAGE = "outage"


FAILING_SCENARIOS = frozenset({Scenario.TIMEOUT, Scenario.OUTAGE})


@dataclass(frozen=True)
class SandboxIdentity:
    country: Country
    document: str
    """Normalised (no separators, upper case), as the lookup compares it."""
    scenario: Scenario
    credit: CreditFile | None
    """The report's contents; None when the bureau never answers (timeout, outage)."""
    decision: str
    """What scoring decides for the country's typical application: APPROVE, REVIEW or REJECT."""
    why: str
    """The rules that fire, with the figures that make them fire."""


def _file(score: int | None, debt: str, obligations: str, months: int) -> CreditFile:
    return CreditFile(
        credit_score=score,
        total_debt=Decimal(debt),
        monthly_obligations=Decimal(obligations),
        has_defaults=False,
        account_age_months=months,
    )


@dataclass(frozen=True)
class _CountrySandbox:
    """One country's five documents and its clean credit file; review and reject differ only in score."""

    country: Country
    documents: tuple[str, str, str, str, str]  # approve, review, reject, timeout, outage
    clean: CreditFile
    reject_score: int
    approve_why: str
    review_why: str
    reject_why: str


_FALLBACK_WHY = "fallback report: BUREAU_FALLBACK (soft) and BUREAU_NO_SCORE (soft)"

_COUNTRIES = (
    _CountrySandbox(
        Country.ES,
        ("70000001F", "70000002P", "70000003D", "70000004X", "Y7000005S"),
        _file(780, "6000.00", "250.00", 120),
        reject_score=540,
        approve_why="DTI 7.81 < 40, PTI 10.42 <= 35, amount <= 20,000; ES_SCORE_BONUS (780 >= 750)",
        review_why="BUREAU_NO_SCORE (soft); DTI 7.81, PTI 10.42",
        reject_why="ES_SCORE (540 < 600, hard)",
    ),
    _CountrySandbox(
        Country.PT,
        ("100000010", "100000029", "100000037", "200000047", "300000057"),
        _file(790, "4200.00", "150.00", 96),
        reject_score=560,
        approve_why="LTI 0.37 <= 4, DTI 8.33 < 40, PTI 12.35 <= 35; PT_SCORE_BONUS (790 >= 750)",
        review_why="BUREAU_NO_SCORE (soft); LTI 0.37, DTI 8.33, PTI 12.35",
        reject_why="PT_SCORE (560 < 600, hard)",
    ),
    _CountrySandbox(
        Country.IT,
        ("SNDAPP80A01H501M", "SNDRVW80A01H501R", "SNDRJT80A01H501Z", "SNDTMO80A01H501T", "SNDOUT80A01H501R"),
        _file(770, "5500.00", "200.00", 108),
        reject_score=550,
        approve_why="DTI 7.69 <= 35, PTI 16.03 <= 30, amount <= 2 x income x 12; IT_SCORE_BONUS (770 >= 750)",
        review_why="BUREAU_NO_SCORE (soft); DTI 7.69, PTI 16.03",
        reject_why="IT_SCORE (550 < 600, hard)",
    ),
    _CountrySandbox(
        Country.MX,
        (
            "SAAP850101HDFNNP09",
            "SARV850101MDFNNV03",
            "SARJ850101HDFNNJ07",
            "SATM850101MDFNNM01",
            "SAUT850101HDFNNT01",
        ),
        _file(760, "36000.00", "2000.00", 84),
        reject_score=500,
        approve_why=(
            "LTI 0.30 <= 3, PTI 10.00 <= 30, TDTI 18.00 <= 45; "
            "MX_PTI_BONUS (PTI <= 15), MX_SCORE_BONUS (760 >= 700)"
        ),
        review_why="BUREAU_NO_SCORE (soft); LTI 0.30, PTI 10.00, TDTI 18.00",
        reject_why="MX_SCORE (500 < 550, hard)",
    ),
    _CountrySandbox(
        Country.CO,
        ("7000000001", "7000000002", "7000000003", "7000000004", "7000000005"),
        _file(800, "4500000.00", "300000.00", 72),
        reject_score=520,
        approve_why=(
            "TDTI 32.78 <= 40, debt 4,500,000 <= 6 x income; "
            "CO_SCORE_BONUS (800 >= 750), CO_TENURE_BONUS (72 >= 36)"
        ),
        review_why="BUREAU_NO_SCORE (soft); TDTI 32.78",
        reject_why="CO_SCORE (520 < 600, hard)",
    ),
    _CountrySandbox(
        Country.BR,
        ("70000000159", "70000000230", "70000000310", "70000000400", "70000000582"),
        _file(850, "3600.00", "150.00", 60),
        reject_score=480,
        approve_why=(
            "LTI 0.31 <= 5, TDTI 33.13 <= 35; BR_SCORE_BONUS (850 >= 700), BR_TENURE_BONUS (60 >= 24)"
        ),
        review_why="BUREAU_NO_SCORE (soft); LTI 0.31, TDTI 33.13",
        reject_why="BR_SCORE (480 < 550, hard)",
    ),
)


def _identities(sandbox: _CountrySandbox) -> tuple[SandboxIdentity, ...]:
    approve, review, reject, timeout, outage = sandbox.documents
    clean = sandbox.clean
    return (
        SandboxIdentity(sandbox.country, approve, Scenario.APPROVE, clean, "APPROVE", sandbox.approve_why),
        SandboxIdentity(
            sandbox.country,
            review,
            Scenario.REVIEW,
            _file(None, str(clean.total_debt), str(clean.monthly_obligations), clean.account_age_months),
            "REVIEW",
            sandbox.review_why,
        ),
        SandboxIdentity(
            sandbox.country,
            reject,
            Scenario.REJECT,
            _file(
                sandbox.reject_score,
                str(clean.total_debt),
                str(clean.monthly_obligations),
                clean.account_age_months,
            ),
            "REJECT",
            sandbox.reject_why,
        ),
        SandboxIdentity(sandbox.country, timeout, Scenario.TIMEOUT, None, "REVIEW", _FALLBACK_WHY),
        SandboxIdentity(sandbox.country, outage, Scenario.OUTAGE, None, "REVIEW", _FALLBACK_WHY),
    )


SANDBOX_IDENTITIES: tuple[SandboxIdentity, ...] = tuple(
    identity for sandbox in _COUNTRIES for identity in _identities(sandbox)
)
"""Every sandbox identity, by country (SPEC §3's order), then approve, review, reject, timeout, outage."""

_BY_DOCUMENT: Mapping[tuple[Country, str], SandboxIdentity] = MappingProxyType(
    {(identity.country, identity.document): identity for identity in SANDBOX_IDENTITIES}
)


def find_sandbox_identity(country: Country, document: str) -> SandboxIdentity | None:
    """The sandbox identity of a normalised document, if it is one."""
    return _BY_DOCUMENT.get((country, document))


def describe_answer(identity: SandboxIdentity) -> str:
    """What the simulated bureau answers for `identity`, in a few words."""
    if identity.scenario is Scenario.TIMEOUT:
        return "hangs past every deadline -> fallback report"
    if identity.scenario is Scenario.OUTAGE:
        return "refuses at once -> fallback report"
    credit = identity.credit
    assert credit is not None  # only the failing scenarios have no file
    currency = PROFILES[identity.country].currency
    score = "no score" if credit.credit_score is None else f"score {credit.credit_score}"
    return (
        f"{score}, obligations {credit.monthly_obligations:,.2f}/month, debt {credit.total_debt:,.2f} "
        f"{currency}, {credit.account_age_months} months of history"
    )


_HEADERS = ("country", "bureau", "scenario", "document", "bureau answers", "decision")


def _rows() -> list[tuple[str, ...]]:
    return [
        (
            identity.country.value,
            PROFILES[identity.country].provider,
            identity.scenario.value,
            identity.document,
            describe_answer(identity),
            identity.decision,
        )
        for identity in SANDBOX_IDENTITIES
    ]


def render_sandbox_table() -> str:
    """The sandbox identities as a plain-text table, for a terminal (the dev stack prints it)."""
    rows = [_HEADERS, *_rows()]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADERS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    note = (
        "Sandbox identities: the simulated bureau's answer for the typical application of each country.\n"
        "None has active defaults. With the default settings, two timeout or outage calls in a row\n"
        "open that country's circuit until its cool-down ends (see ListCircuits).\n"
    )
    return note + "\n".join(lines) + "\n"


def render_sandbox_markdown() -> str:
    """The same table in Markdown, with the rules that decide each case (the service README holds it)."""
    headers = (*_HEADERS, "why")
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row, identity in zip(_rows(), SANDBOX_IDENTITIES, strict=True):
        cells = (*row[:3], f"`{row[3]}`", *row[4:], identity.why)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
