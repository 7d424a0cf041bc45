"""The credit application and its workflow: what a valid new application is (SPEC §3, §4) and who may
move it from which status to which (SPEC §5).

Pure: imports no generated protos, gRPC, database or messaging code. Validation collects every
violation before failing, so a client fixes its request in one round trip.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from types import MappingProxyType

from intake.countries import BRAZILIAN_STATE_CODES, MEXICAN_STATE_CODES, RULES, Country
from intake.documents import REQUIRED, DocumentRejected, IdentityDocument, validate_document
from intake.errors import (
    ApplicationInvalid,
    InvalidStatusTransition,
    ReasonRequired,
    TransitionNotPermitted,
    Violation,
)
from intake.money import Money, MoneyMalformed, parse_amount, quantize_cents

__all__ = [
    "DEFAULT_TERM_MONTHS",
    "FINAL_STATUSES",
    "PERMITTED_MOVES",
    "TRANSITIONS",
    "Actor",
    "ApplicationDraft",
    "ApplicationInvalid",
    "BrazilDetails",
    "ColombiaDetails",
    "Consent",
    "ConsentChannel",
    "ConsentInput",
    "CountryDetails",
    "InvalidStatusTransition",
    "ItalyDetails",
    "MexicoDetails",
    "MoneyInput",
    "NewApplication",
    "PortugalDetails",
    "ReasonRequired",
    "SpainDetails",
    "Status",
    "TransitionNotPermitted",
    "Violation",
    "bank_outcome",
    "check_transition",
    "reason_required",
    "validate_application",
]

DEFAULT_TERM_MONTHS = 36
MIN_TERM_MONTHS = 6
MAX_TERM_MONTHS = 120
MIN_NAME_LENGTH = 3
MAX_NAME_LENGTH = 200
MAX_CONSENT_REFERENCE_LENGTH = 128
MAX_REASON_LENGTH = 1000
# Tolerated clock skew between the caller and us: a consent "granted" a little in our future is a
# clock difference, not a lie.
CONSENT_CLOCK_SKEW = timedelta(minutes=5)


# The application -----------------------------------------------------------------------------------


class Status(StrEnum):
    """Where an application stands."""

    PENDING = "PENDING"
    VALIDATING = "VALIDATING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    UNDER_REVIEW = "UNDER_REVIEW"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"


FINAL_STATUSES: frozenset[Status] = frozenset({Status.REJECTED, Status.CANCELLED, Status.COMPLETED})


class ConsentChannel(StrEnum):
    """Where the applicant authorised the bureau enquiry."""

    WEB = "WEB"
    MOBILE_APP = "MOBILE_APP"
    BRANCH = "BRANCH"
    PHONE = "PHONE"
    PARTNER = "PARTNER"


@dataclass(frozen=True)
class SpainDetails:
    """INE province code, `01` to `52`."""

    province_code: str


@dataclass(frozen=True)
class PortugalDetails:
    """District code: `01` to `18` on the mainland, `20` Azores, `30` Madeira."""

    district_code: str


@dataclass(frozen=True)
class ItalyDetails:
    """Province abbreviation (sigla), two capital letters such as `RM`."""

    province_code: str


@dataclass(frozen=True)
class MexicoDetails:
    """State code as written in the CURP (`DF`, `JC`, `NL`, …, `NE` born abroad)."""

    state_code: str


@dataclass(frozen=True)
class ColombiaDetails:
    """Socio-economic stratum of the applicant's home, 1 to 6."""

    socioeconomic_stratum: int


@dataclass(frozen=True)
class BrazilDetails:
    """Federative unit (UF), such as `SP` or `RJ`."""

    state_code: str


CountryDetails = (
    SpainDetails | PortugalDetails | ItalyDetails | MexicoDetails | ColombiaDetails | BrazilDetails
)


@dataclass(frozen=True)
class MoneyInput:
    """Money as the wire carries it: both parts unchecked strings."""

    currency_code: str
    amount: str


@dataclass(frozen=True)
class ConsentInput:
    """The bureau consent as the API hands it over; missing parts are None or empty."""

    granted_at: datetime | None
    channel: ConsentChannel | None
    reference: str


@dataclass(frozen=True)
class ApplicationDraft:
    """A new application as the client sent it, before any check. None means absent on the wire."""

    country: Country | None
    full_name: str
    identity_document: str
    requested_amount: MoneyInput | None
    monthly_income: MoneyInput | None
    term_months: int
    consent: ConsentInput | None
    country_details: CountryDetails | None


@dataclass(frozen=True)
class Consent:
    """The applicant's authorisation to ask the credit bureau."""

    granted_at: datetime
    channel: ConsentChannel
    reference: str


@dataclass(frozen=True)
class NewApplication:
    """A validated application, ready to be stored. Amounts are in cents; the name is tidied."""

    country: Country
    full_name: str
    document: IdentityDocument
    requested_amount: Money
    monthly_income: Money
    term_months: int
    consent: Consent
    country_details: CountryDetails | None


# Validation ----------------------------------------------------------------------------------------


def validate_application(draft: ApplicationDraft, *, now: datetime) -> NewApplication:
    """Check a draft against every rule and return the application it describes.

    `now` must be timezone-aware. Raises `ApplicationInvalid` listing every violation at once.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    violations: list[Violation] = []
    report = _Reporter(violations)

    country = draft.country
    if country is None:
        report("country", "COUNTRY_REQUIRED", "the country is required")

    full_name = _full_name(draft.full_name, report)
    document = _document(country, draft.identity_document, now, report)
    requested = _money(draft.requested_amount, "requested_amount", country, report)
    income = _money(draft.monthly_income, "monthly_income", country, report)
    if country is not None:
        rules = RULES[country]
        # Limits are checked even when the currency is wrong: the amount is meant in the country's
        # currency, and the client would hit this violation next anyway.
        if requested is not None and requested.amount > rules.max_amount:
            report(
                "requested_amount.amount",
                "AMOUNT_ABOVE_COUNTRY_MAXIMUM",
                f"the requested amount is above the country's maximum of {rules.max_amount}",
            )
        if income is not None and income.amount < rules.min_monthly_income:
            report(
                "monthly_income.amount",
                "INCOME_BELOW_COUNTRY_MINIMUM",
                f"the monthly income is below the country's minimum of {rules.min_monthly_income}",
            )
    term = _term(draft.term_months, report)
    consent = _consent(draft.consent, now, report)
    _country_details(draft.country_details, country, report)

    if violations:
        raise ApplicationInvalid(tuple(violations))
    # Every None below was reported as a violation above, so none can reach here.
    assert country is not None
    assert full_name is not None
    assert document is not None
    assert requested is not None
    assert income is not None
    assert term is not None
    assert consent is not None
    return NewApplication(
        country=country,
        full_name=full_name,
        document=document,
        requested_amount=requested,
        monthly_income=income,
        term_months=term,
        consent=consent,
        country_details=draft.country_details,
    )


class _Reporter:
    """Collects violations; each check reports what it finds and carries on."""

    def __init__(self, violations: list[Violation]) -> None:
        self._violations = violations

    def __call__(self, field: str, reason: str, description: str) -> None:
        self._violations.append(Violation(field=field, reason=reason, description=description))


# Zero-width (non-)joiners are format characters that some scripts need inside names; every other
# control, format (bidi overrides can disguise a name on screen), surrogate, private or unassigned
# code point is refused.
_ALLOWED_FORMAT_CHARACTERS = frozenset({"\u200c", "\u200d"})
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def _full_name(raw: str, report: _Reporter) -> str | None:
    trimmed = raw.strip()
    has_control = any(
        unicodedata.category(c) in _REFUSED_CATEGORIES and c not in _ALLOWED_FORMAT_CHARACTERS
        for c in trimmed
    )
    words = trimmed.split()
    name = " ".join(words)
    if has_control:
        problem = "the full name contains control characters"
    elif not MIN_NAME_LENGTH <= len(name) <= MAX_NAME_LENGTH:
        problem = f"the full name must be {MIN_NAME_LENGTH} to {MAX_NAME_LENGTH} characters long"
    elif len(words) < 2:  # a given name and a surname
        problem = "the full name must have at least two words"
    elif not all(any(c.isalpha() for c in word) for word in words):
        problem = "every word of the full name must contain a letter"
    else:
        return name
    report("applicant.full_name", "FULL_NAME_INVALID", problem)
    return None


# Mexico stopped daylight saving time in 2022; central Mexico, where most applicants live, is UTC-6
# all year. "At least 18 today" is judged on that calendar, not on UTC's, which runs ahead of it.
_MEXICO_CENTRAL_TIME = timezone(timedelta(hours=-6))
_CIVIL_TIME: Mapping[Country, timezone] = MappingProxyType({Country.MX: _MEXICO_CENTRAL_TIME})


def _document(country: Country | None, raw: str, now: datetime, report: _Reporter) -> IdentityDocument | None:
    field = "applicant.identity_document"
    if country is None:
        # Which document is right depends on the country; only its absence can be judged without one.
        if not raw.strip():
            report(field, REQUIRED, "an identity document is required")
        return None
    today = now.astimezone(_CIVIL_TIME.get(country, UTC)).date()
    try:
        return validate_document(country, raw, today=today)
    except DocumentRejected as rejected:
        report(field, rejected.reason, rejected.description)
        return None


def _money(value: MoneyInput | None, field: str, country: Country | None, report: _Reporter) -> Money | None:
    if value is None:
        report(field, "MONEY_REQUIRED", "the amount and its currency are required")
        return None
    currency = value.currency_code
    currency_ok = len(currency) == 3 and currency.isascii() and currency.isalpha() and currency.isupper()
    if not currency_ok:
        report(
            f"{field}.currency_code",
            "MONEY_MALFORMED",
            "the currency must be three capital letters (ISO 4217)",
        )
    elif country is not None and currency != RULES[country].currency:
        report(
            f"{field}.currency_code",
            "CURRENCY_MISMATCH",
            f"the currency must be the country's currency, {RULES[country].currency}",
        )
    try:
        amount = parse_amount(value.amount)
    except MoneyMalformed as malformed:
        report(f"{field}.amount", malformed.reason, malformed.description)
        return None
    if amount <= 0:
        report(f"{field}.amount", "AMOUNT_NOT_POSITIVE", "the amount must be greater than zero")
        return None
    # A malformed currency makes the whole value unusable; a mismatched one is reported and the amount
    # still takes part in the limit checks.
    return Money(currency=currency, amount=quantize_cents(amount)) if currency_ok else None


def _term(term_months: int, report: _Reporter) -> int | None:
    # proto3 cannot tell "not sent" from 0, so 0 means the default.
    if term_months == 0:
        return DEFAULT_TERM_MONTHS
    if MIN_TERM_MONTHS <= term_months <= MAX_TERM_MONTHS:
        return term_months
    report(
        "term_months",
        "TERM_OUT_OF_RANGE",
        f"the term must be {MIN_TERM_MONTHS} to {MAX_TERM_MONTHS} months, or 0 for the default",
    )
    return None


def _consent(value: ConsentInput | None, now: datetime, report: _Reporter) -> Consent | None:
    if value is None:
        report("consent", "CONSENT_REQUIRED", "the applicant's consent to the bureau enquiry is required")
        return None
    granted_at = value.granted_at
    if granted_at is None:
        report("consent.granted_at", "CONSENT_TIME_INVALID", "the time of consent is required")
    elif granted_at.tzinfo is None or granted_at.utcoffset() is None:
        report("consent.granted_at", "CONSENT_TIME_INVALID", "the time of consent must carry a time zone")
        granted_at = None
    elif granted_at > now + CONSENT_CLOCK_SKEW:
        report("consent.granted_at", "CONSENT_TIME_INVALID", "the time of consent is in the future")
        granted_at = None
    if value.channel is None:
        report("consent.channel", "CONSENT_CHANNEL_REQUIRED", "the consent channel is required")
    reference = value.reference
    if not (
        1 <= len(reference) <= MAX_CONSENT_REFERENCE_LENGTH and reference.isprintable() and reference.strip()
    ):
        report(
            "consent.reference",
            "CONSENT_REFERENCE_INVALID",
            f"the consent reference must be 1 to {MAX_CONSENT_REFERENCE_LENGTH} printable characters",
        )
        return None
    if granted_at is None or value.channel is None:
        return None
    return Consent(granted_at=granted_at, channel=value.channel, reference=reference)


# What the proto documents for each case; `details` paths name the oneof case, as the wire does.
_SPAIN_PROVINCES = frozenset(f"{n:02d}" for n in range(1, 53))
_PORTUGAL_DISTRICTS = frozenset([f"{n:02d}" for n in range(1, 19)] + ["20", "30"])
_STRATA = range(1, 7)


def _is_two_capital_letters(code: str) -> bool:
    return len(code) == 2 and code.isascii() and code.isalpha() and code.isupper()


def _country_details(details: CountryDetails | None, country: Country | None, report: _Reporter) -> None:
    if details is None:
        return
    # Each case: the country it belongs to, the path of its one field, and what is wrong with it, if anything.
    match details:
        case SpainDetails(province_code=code):
            owner, field = Country.ES, "country_details.spain.province_code"
            problem = None if code in _SPAIN_PROVINCES else "the province code must be 01 to 52"
        case PortugalDetails(district_code=code):
            owner, field = Country.PT, "country_details.portugal.district_code"
            problem = None if code in _PORTUGAL_DISTRICTS else "the district code must be 01 to 18, 20 or 30"
        case ItalyDetails(province_code=code):
            owner, field = Country.IT, "country_details.italy.province_code"
            problem = (
                None if _is_two_capital_letters(code) else "the province code must be two capital letters"
            )
        case MexicoDetails(state_code=code):
            owner, field = Country.MX, "country_details.mexico.state_code"
            problem = (
                None if code in MEXICAN_STATE_CODES else "the state code must be one of RENAPO's state codes"
            )
        case ColombiaDetails(socioeconomic_stratum=stratum):
            owner, field = Country.CO, "country_details.colombia.socioeconomic_stratum"
            problem = None if stratum in _STRATA else "the socio-economic stratum must be 1 to 6"
        case BrazilDetails(state_code=code):
            owner, field = Country.BR, "country_details.brazil.state_code"
            problem = (
                None
                if code in BRAZILIAN_STATE_CODES
                else "the state code must be one of Brazil's 27 federative units"
            )
    if country is not None and owner != country:
        report(
            "country_details",
            "COUNTRY_DETAILS_MISMATCH",
            "the country details must be those of the application's country",
        )
    if problem is not None:
        report(field, "COUNTRY_DETAILS_INVALID", problem)


# Workflow ------------------------------------------------------------------------------------------


class Actor(StrEnum):
    """Who makes a move: the scoring service, an analyst deciding a review, the applicant's channel (a
    partner or an analyst) cancelling, or a bank confirmation."""

    SCORING = "SCORING"
    ANALYST = "ANALYST"
    CHANNEL = "CHANNEL"
    BANK = "BANK"


# SPEC §5's diagram, edge for edge.
TRANSITIONS: Mapping[Status, frozenset[Status]] = MappingProxyType(
    {
        Status.PENDING: frozenset({Status.VALIDATING, Status.CANCELLED}),
        Status.VALIDATING: frozenset({Status.APPROVED, Status.REJECTED, Status.UNDER_REVIEW}),
        Status.APPROVED: frozenset({Status.COMPLETED, Status.CANCELLED}),
        Status.UNDER_REVIEW: frozenset({Status.APPROVED, Status.REJECTED, Status.CANCELLED}),
        Status.REJECTED: frozenset(),
        Status.CANCELLED: frozenset(),
        Status.COMPLETED: frozenset(),
    }
)

# Which moves each actor may make; together they cover every edge of TRANSITIONS.
PERMITTED_MOVES: Mapping[Actor, frozenset[tuple[Status, Status]]] = MappingProxyType(
    {
        Actor.SCORING: frozenset(
            {
                (Status.PENDING, Status.VALIDATING),
                (Status.VALIDATING, Status.APPROVED),
                (Status.VALIDATING, Status.REJECTED),
                (Status.VALIDATING, Status.UNDER_REVIEW),
            }
        ),
        Actor.ANALYST: frozenset(
            {(Status.UNDER_REVIEW, Status.APPROVED), (Status.UNDER_REVIEW, Status.REJECTED)}
        ),
        Actor.CHANNEL: frozenset(
            {
                (Status.PENDING, Status.CANCELLED),
                (Status.UNDER_REVIEW, Status.CANCELLED),
                (Status.APPROVED, Status.CANCELLED),
            }
        ),
        Actor.BANK: frozenset(
            {
                (Status.APPROVED, Status.COMPLETED),
                (Status.APPROVED, Status.CANCELLED),
                (Status.VALIDATING, Status.REJECTED),
                (Status.UNDER_REVIEW, Status.REJECTED),
            }
        ),
    }
)


def check_transition(current: Status, target: Status, actor: Actor) -> None:
    """Allow the move or raise: `InvalidStatusTransition` when the workflow has no such move (a final
    state, the same status, a skipped step), `TransitionNotPermitted` when it is not this actor's."""
    if target not in TRANSITIONS[current]:
        raise InvalidStatusTransition(current, target)
    if (current, target) not in PERMITTED_MOVES[actor]:
        raise TransitionNotPermitted(current, target, actor)


def bank_outcome(current: Status, *, identity_verified: bool, disbursed: bool) -> Status | None:
    """Where a bank confirmation moves an application, or None when it is only recorded."""
    if current is Status.APPROVED:
        if not identity_verified:
            return Status.CANCELLED
        return Status.COMPLETED if disbursed else None
    if current in (Status.VALIDATING, Status.UNDER_REVIEW) and not identity_verified:
        return Status.REJECTED
    return None


def reason_required(text: str) -> str:
    """The reason for a status change, trimmed; 1 to 1000 characters or `ReasonRequired`."""
    reason = text.strip()
    if not 1 <= len(reason) <= MAX_REASON_LENGTH:
        raise ReasonRequired()
    return reason
