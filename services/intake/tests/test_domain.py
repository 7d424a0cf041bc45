"""The application's validation (SPEC §3, §4), its workflow (SPEC §5) and the domain errors."""

from __future__ import annotations

import dataclasses
import itertools
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.mx import curp

from intake.countries import RULES, Country
from intake.documents import DocumentType
from intake.domain import (
    DEFAULT_TERM_MONTHS,
    FINAL_STATUSES,
    PERMITTED_MOVES,
    TRANSITIONS,
    Actor,
    ApplicationDraft,
    BrazilDetails,
    ColombiaDetails,
    Consent,
    ConsentChannel,
    ConsentInput,
    CountryDetails,
    ItalyDetails,
    MexicoDetails,
    MoneyInput,
    PortugalDetails,
    SpainDetails,
    Status,
    bank_outcome,
    check_transition,
    reason_required,
    validate_application,
)
from intake.errors import (
    ApplicationInvalid,
    ApplicationNotFound,
    DomainError,
    DuplicateApplication,
    EtagMismatch,
    InvalidStatusTransition,
    PiiReadNotPermitted,
    ReasonRequired,
    RequestIdReused,
    TransitionNotPermitted,
    Violation,
    WebhookIdReused,
)
from intake.money import Money

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
NAME = "María José García López"

DOCUMENTS = {
    Country.ES: ("12345678Z", DocumentType.ES_DNI),
    Country.PT: ("123456789", DocumentType.PT_NIF),
    Country.IT: ("RSSMRA80A01H501U", DocumentType.IT_CODICE_FISCALE),
    Country.MX: ("HERM850101MDFRRR08", DocumentType.MX_CURP),
    Country.CO: ("1234567890", DocumentType.CO_CEDULA),
    Country.BR: ("52998224725", DocumentType.BR_CPF),
}
DETAILS: dict[Country, CountryDetails] = {
    Country.ES: SpainDetails("28"),
    Country.PT: PortugalDetails("11"),
    Country.IT: ItalyDetails("RM"),
    Country.MX: MexicoDetails("DF"),
    Country.CO: ColombiaDetails(3),
    Country.BR: BrazilDetails("SP"),
}
CONSENT = ConsentInput(
    granted_at=NOW - timedelta(minutes=1), channel=ConsentChannel.WEB, reference="form-123"
)


def money(country: Country, amount: str) -> MoneyInput:
    return MoneyInput(currency_code=RULES[country].currency, amount=amount)


def draft(country: Country | None = Country.ES, **changes: Any) -> ApplicationDraft:
    """A valid draft for `country` (Spain's, with no country), with `changes` applied."""
    rules = RULES[country or Country.ES]
    valid = ApplicationDraft(
        country=country,
        full_name=NAME,
        identity_document=DOCUMENTS[country or Country.ES][0],
        requested_amount=MoneyInput(rules.currency, str(rules.max_amount / 2)),
        monthly_income=MoneyInput(rules.currency, str(rules.min_monthly_income * 2)),
        term_months=24,
        consent=CONSENT,
        country_details=DETAILS[country or Country.ES],
    )
    return dataclasses.replace(valid, **changes)


def violations_of(application: ApplicationDraft, now: datetime = NOW) -> tuple[Violation, ...]:
    with pytest.raises(ApplicationInvalid) as info:
        validate_application(application, now=now)
    error = info.value
    assert error.reason == "INVALID_APPLICATION"
    # No violation, and not the error itself, ever repeats the applicant's name or document.
    texts = [
        str(error),
        error.description,
        *(f"{v.field} {v.reason} {v.description}" for v in error.violations),
    ]
    for secret in (application.full_name.strip(), application.identity_document.strip()):
        if len(secret) >= 3:
            assert all(secret not in text for text in texts)
    return error.violations


def reasons_of(application: ApplicationDraft, now: datetime = NOW) -> dict[str, str]:
    found = violations_of(application, now)
    by_field = {v.field: v.reason for v in found}
    assert len(by_field) == len(found), "one violation per field"
    return by_field


# A valid application -----------------------------------------------------------------------------


@pytest.mark.parametrize("country", list(Country))
def test_valid_draft_becomes_a_new_application(country: Country) -> None:
    application = validate_application(draft(country), now=NOW)
    rules = RULES[country]
    assert application.country == country
    assert application.full_name == NAME
    assert application.document.number == DOCUMENTS[country][0]
    assert application.document.type == DOCUMENTS[country][1]
    assert application.requested_amount == Money(rules.currency, rules.max_amount / 2)
    assert application.monthly_income == Money(rules.currency, rules.min_monthly_income * 2)
    assert application.term_months == 24
    assert application.consent == Consent(CONSENT.granted_at, ConsentChannel.WEB, "form-123")  # type: ignore[arg-type]
    assert application.country_details == DETAILS[country]


def test_amounts_are_kept_in_cents() -> None:
    application = validate_application(
        draft(requested_amount=money(Country.ES, "1000"), monthly_income=money(Country.ES, "2000.5")), now=NOW
    )
    assert str(application.requested_amount.amount) == "1000.00"
    assert str(application.monthly_income.amount) == "2000.50"


def test_document_is_normalised() -> None:
    application = validate_application(draft(identity_document=" 1234-5678-z "), now=NOW)
    assert application.document.number == "12345678Z"


def test_country_details_are_optional() -> None:
    assert validate_application(draft(country_details=None), now=NOW).country_details is None


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_application(draft(), now=NOW.replace(tzinfo=None))


# Every violation at once -------------------------------------------------------------------------


def test_every_violation_is_reported_at_once() -> None:
    application = draft(
        identity_document="12345678A",
        requested_amount=MoneyInput("USD", "60000"),
        monthly_income=money(Country.ES, "1000"),
    )
    assert reasons_of(application) == {
        "applicant.identity_document": "IDENTITY_DOCUMENT_CHECKSUM_INVALID",
        "requested_amount.currency_code": "CURRENCY_MISMATCH",
        "requested_amount.amount": "AMOUNT_ABOVE_COUNTRY_MAXIMUM",
        "monthly_income.amount": "INCOME_BELOW_COUNTRY_MINIMUM",
    }


def test_an_empty_draft_reports_every_required_field() -> None:
    empty = ApplicationDraft(
        country=None,
        full_name="",
        identity_document="",
        requested_amount=None,
        monthly_income=None,
        term_months=0,
        consent=None,
        country_details=None,
    )
    assert reasons_of(empty) == {
        "country": "COUNTRY_REQUIRED",
        "applicant.full_name": "FULL_NAME_INVALID",
        "applicant.identity_document": "IDENTITY_DOCUMENT_REQUIRED",
        "requested_amount": "MONEY_REQUIRED",
        "monthly_income": "MONEY_REQUIRED",
        "consent": "CONSENT_REQUIRED",
    }


def test_everything_wrong_at_once() -> None:
    application = ApplicationDraft(
        country=Country.MX,
        full_name="X",
        identity_document="HERM850101MDFRRR01",
        requested_amount=MoneyInput("mxn", "-5"),
        monthly_income=MoneyInput("EUR", "0"),
        term_months=500,
        consent=ConsentInput(granted_at=NOW + timedelta(hours=1), channel=None, reference=""),
        country_details=BrazilDetails("XX"),
    )
    assert reasons_of(application) == {
        "applicant.full_name": "FULL_NAME_INVALID",
        "applicant.identity_document": "IDENTITY_DOCUMENT_CHECKSUM_INVALID",
        "requested_amount.currency_code": "MONEY_MALFORMED",
        "requested_amount.amount": "MONEY_MALFORMED",
        "monthly_income.currency_code": "CURRENCY_MISMATCH",
        "monthly_income.amount": "AMOUNT_NOT_POSITIVE",
        "term_months": "TERM_OUT_OF_RANGE",
        "consent.granted_at": "CONSENT_TIME_INVALID",
        "consent.channel": "CONSENT_CHANNEL_REQUIRED",
        "consent.reference": "CONSENT_REFERENCE_INVALID",
        "country_details": "COUNTRY_DETAILS_MISMATCH",
        "country_details.brazil.state_code": "COUNTRY_DETAILS_INVALID",
    }


def test_application_invalid_describes_itself_without_pii() -> None:
    error = ApplicationInvalid((Violation("country", "COUNTRY_REQUIRED", "the country is required"),))
    assert error.reason == "INVALID_APPLICATION"
    assert "1 field" in error.description
    with pytest.raises(ValueError, match="at least one violation"):
        ApplicationInvalid(())


# Country and document ----------------------------------------------------------------------------


def test_without_a_country_the_document_is_not_judged() -> None:
    assert reasons_of(draft(country=None, identity_document="nonsense")) == {"country": "COUNTRY_REQUIRED"}


def test_without_a_country_currencies_and_details_are_not_judged() -> None:
    application = draft(
        country=None, requested_amount=MoneyInput("JPY", "10"), monthly_income=MoneyInput("JPY", "10")
    )
    assert reasons_of(application) == {"country": "COUNTRY_REQUIRED"}


@pytest.mark.parametrize(
    ("country", "document", "reason"),
    [
        (Country.ES, "12345678A", "IDENTITY_DOCUMENT_CHECKSUM_INVALID"),
        (Country.ES, "123456789", "IDENTITY_DOCUMENT_FORMAT_INVALID"),
        (Country.ES, "   ", "IDENTITY_DOCUMENT_REQUIRED"),
        (Country.PT, "501964843", "IDENTITY_DOCUMENT_NOT_INDIVIDUAL"),
        (Country.ES, "X1234567", "IDENTITY_DOCUMENT_FORMAT_INVALID"),
        (Country.CO, "12A4567", "IDENTITY_DOCUMENT_FORMAT_INVALID"),
        (Country.BR, "11111111111", "IDENTITY_DOCUMENT_FORMAT_INVALID"),
    ],
)
def test_document_violations_name_the_document_field(country: Country, document: str, reason: str) -> None:
    assert reasons_of(draft(country, identity_document=document)) == {"applicant.identity_document": reason}


def curp_born(born: date) -> str:
    body = f"HERM{born:%y%m%d}MDFRRRA"
    return body + curp.calc_check_digit(body)


def test_mexican_age_is_judged_on_mexico_city_time() -> None:
    turns_18 = curp_born(date(2008, 11, 28))
    # 03:00 UTC is still 27 November in central Mexico (UTC-6): seventeen there.
    early = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    consent = dataclasses.replace(CONSENT, granted_at=early)
    application = draft(Country.MX, identity_document=turns_18, consent=consent)
    assert reasons_of(application, now=early) == {"applicant.identity_document": "APPLICANT_UNDERAGE"}
    # 06:00 UTC is midnight in central Mexico: eighteen.
    on_time = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
    assert validate_application(application, now=on_time).document.number == turns_18


# Limits ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("country", list(Country))
def test_requested_amount_may_be_exactly_the_country_maximum(country: Country) -> None:
    maximum = RULES[country].max_amount
    application = validate_application(draft(country, requested_amount=money(country, str(maximum))), now=NOW)
    assert application.requested_amount.amount == maximum


@pytest.mark.parametrize("country", list(Country))
def test_requested_amount_a_cent_above_the_maximum_is_refused(country: Country) -> None:
    above = str(RULES[country].max_amount + Decimal("0.01"))
    assert reasons_of(draft(country, requested_amount=money(country, above))) == {
        "requested_amount.amount": "AMOUNT_ABOVE_COUNTRY_MAXIMUM"
    }


@pytest.mark.parametrize("country", list(Country))
def test_income_may_be_exactly_the_country_minimum(country: Country) -> None:
    minimum = RULES[country].min_monthly_income
    application = validate_application(draft(country, monthly_income=money(country, str(minimum))), now=NOW)
    assert application.monthly_income.amount == minimum


@pytest.mark.parametrize("country", list(Country))
def test_income_a_cent_below_the_minimum_is_refused(country: Country) -> None:
    below = str(RULES[country].min_monthly_income - Decimal("0.01"))
    assert reasons_of(draft(country, monthly_income=money(country, below))) == {
        "monthly_income.amount": "INCOME_BELOW_COUNTRY_MINIMUM"
    }


def test_limit_descriptions_state_the_limit_not_the_amount() -> None:
    found = violations_of(draft(requested_amount=money(Country.ES, "77777")))
    assert found[0].description == "the requested amount is above the country's maximum of 50000.00"


# Money -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["requested_amount", "monthly_income"])
def test_money_is_required(field: str) -> None:
    assert reasons_of(draft(Country.ES, **{field: None})) == {field: "MONEY_REQUIRED"}


@pytest.mark.parametrize("amount", ["", "1,000", "1e4", "-100", "100.001", "NaN", " 100"])
@pytest.mark.parametrize("field", ["requested_amount", "monthly_income"])
def test_malformed_amounts_are_refused(field: str, amount: str) -> None:
    assert reasons_of(draft(Country.ES, **{field: MoneyInput("EUR", amount)})) == {
        f"{field}.amount": "MONEY_MALFORMED"
    }


@pytest.mark.parametrize("currency", ["", "eur", "EU", "EURO", "E1R", "ÉUR", " EUR"])
@pytest.mark.parametrize("field", ["requested_amount", "monthly_income"])
def test_malformed_currencies_are_refused(field: str, currency: str) -> None:
    assert reasons_of(draft(Country.ES, **{field: MoneyInput(currency, "10000")})) == {
        f"{field}.currency_code": "MONEY_MALFORMED"
    }


@pytest.mark.parametrize(
    ("country", "currency"), [(Country.ES, "USD"), (Country.MX, "EUR"), (Country.BR, "MXN")]
)
def test_currency_must_be_the_countrys(country: Country, currency: str) -> None:
    requested = MoneyInput(currency, str(RULES[country].max_amount / 2))
    assert reasons_of(draft(country, requested_amount=requested)) == {
        "requested_amount.currency_code": "CURRENCY_MISMATCH"
    }


@pytest.mark.parametrize("amount", ["0", "0.00", "0.0"])
def test_zero_amounts_are_refused(amount: str) -> None:
    assert reasons_of(draft(requested_amount=money(Country.ES, amount))) == {
        "requested_amount.amount": "AMOUNT_NOT_POSITIVE"
    }


def test_a_cent_is_a_positive_amount() -> None:
    application = validate_application(draft(requested_amount=money(Country.ES, "0.01")), now=NOW)
    assert application.requested_amount.amount == Decimal("0.01")


def test_malformed_currency_and_amount_are_both_reported() -> None:
    assert reasons_of(draft(requested_amount=MoneyInput("usd", "1e3"))) == {
        "requested_amount.currency_code": "MONEY_MALFORMED",
        "requested_amount.amount": "MONEY_MALFORMED",
    }


# Term --------------------------------------------------------------------------------------------


def test_term_zero_means_the_default() -> None:
    assert validate_application(draft(term_months=0), now=NOW).term_months == DEFAULT_TERM_MONTHS == 36


@pytest.mark.parametrize("term", [6, 7, 36, 119, 120])
def test_terms_from_6_to_120_months_are_accepted(term: int) -> None:
    assert validate_application(draft(term_months=term), now=NOW).term_months == term


@pytest.mark.parametrize("term", [-1, 1, 5, 121, 2**31 - 1, -(2**31)])
def test_terms_out_of_range_are_refused(term: int) -> None:
    assert reasons_of(draft(term_months=term)) == {"term_months": "TERM_OUT_OF_RANGE"}


# Full name ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("  Ana   García ", "Ana García"),
        ("Ana\u00a0García", "Ana García"),
        ("José Núñez", "José Núñez"),
        ("O'Brien Smith-Jones", "O'Brien Smith-Jones"),
        ("J. Smith", "J. Smith"),
        ("A B", "A B"),
        ("李 小龙", "李 小龙"),
        ("Ali Rezaei\u200cpour", "Ali Rezaei\u200cpour"),  # zero-width non-joiner, used in Persian
        ("A " + "b" * 198, "A " + "b" * 198),
    ],
)
def test_full_names_are_trimmed_and_collapsed(raw: str, name: str) -> None:
    assert validate_application(draft(full_name=raw), now=NOW).full_name == name


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "Ana",  # one word
        "Ab",  # too short
        "A " + "b" * 199,  # 201 characters
        "Ana 123",  # a word without a letter
        "Ana - García",
        "Ana\x00 García",
        "Ana\nGarcía",
        "Ana\tGarcía",
        "Ana \u202eaícraG",  # a right-to-left override
        "Ana \u200bGarcía",  # zero-width space
        "Ana \ue000García",  # private use
    ],
)
def test_invalid_full_names_are_refused(raw: str) -> None:
    assert reasons_of(draft(full_name=raw)) == {"applicant.full_name": "FULL_NAME_INVALID"}


# Consent -----------------------------------------------------------------------------------------


def test_consent_is_required() -> None:
    assert reasons_of(draft(consent=None)) == {"consent": "CONSENT_REQUIRED"}


@pytest.mark.parametrize(
    "granted_at",
    [NOW - timedelta(days=365), NOW, NOW + timedelta(minutes=5), NOW.astimezone(tz=None)],
)
def test_consent_time_up_to_five_minutes_ahead_is_accepted(granted_at: datetime) -> None:
    consent = dataclasses.replace(CONSENT, granted_at=granted_at)
    assert validate_application(draft(consent=consent), now=NOW).consent.granted_at == granted_at


@pytest.mark.parametrize(
    "granted_at",
    [None, NOW + timedelta(minutes=5, microseconds=1), NOW + timedelta(days=1), datetime(2026, 1, 1)],
)
def test_consent_time_missing_naive_or_in_the_future_is_refused(granted_at: datetime | None) -> None:
    consent = dataclasses.replace(CONSENT, granted_at=granted_at)
    assert reasons_of(draft(consent=consent)) == {"consent.granted_at": "CONSENT_TIME_INVALID"}


@pytest.mark.parametrize("channel", list(ConsentChannel))
def test_every_consent_channel_is_accepted(channel: ConsentChannel) -> None:
    consent = dataclasses.replace(CONSENT, channel=channel)
    assert validate_application(draft(consent=consent), now=NOW).consent.channel == channel


def test_consent_channel_is_required() -> None:
    consent = dataclasses.replace(CONSENT, channel=None)
    assert reasons_of(draft(consent=consent)) == {"consent.channel": "CONSENT_CHANNEL_REQUIRED"}


@pytest.mark.parametrize("reference", ["x", "form 123/B", "r" * 128, "ñandú-42"])
def test_consent_references_of_1_to_128_printable_characters_are_accepted(reference: str) -> None:
    consent = dataclasses.replace(CONSENT, reference=reference)
    assert validate_application(draft(consent=consent), now=NOW).consent.reference == reference


@pytest.mark.parametrize("reference", ["", " ", "r" * 129, "line\nbreak", "nul\x00", "tab\t"])
def test_invalid_consent_references_are_refused(reference: str) -> None:
    consent = dataclasses.replace(CONSENT, reference=reference)
    assert reasons_of(draft(consent=consent)) == {"consent.reference": "CONSENT_REFERENCE_INVALID"}


def test_every_consent_violation_is_reported() -> None:
    consent = ConsentInput(granted_at=None, channel=None, reference="")
    assert reasons_of(draft(consent=consent)) == {
        "consent.granted_at": "CONSENT_TIME_INVALID",
        "consent.channel": "CONSENT_CHANNEL_REQUIRED",
        "consent.reference": "CONSENT_REFERENCE_INVALID",
    }


# Country details ---------------------------------------------------------------------------------

VALID_DETAILS: list[tuple[Country, CountryDetails]] = [
    *((Country.ES, SpainDetails(f"{n:02d}")) for n in (1, 28, 52)),
    *((Country.PT, PortugalDetails(code)) for code in ("01", "18", "20", "30")),
    *((Country.IT, ItalyDetails(code)) for code in ("RM", "MI", "AA", "ZZ")),
    *((Country.MX, MexicoDetails(code)) for code in ("DF", "JC", "NL", "NE")),
    *((Country.CO, ColombiaDetails(stratum)) for stratum in range(1, 7)),
    *((Country.BR, BrazilDetails(code)) for code in ("SP", "RJ", "DF", "AC", "TO")),
]


@pytest.mark.parametrize(("country", "details"), VALID_DETAILS)
def test_valid_country_details_are_accepted(country: Country, details: CountryDetails) -> None:
    assert validate_application(draft(country, country_details=details), now=NOW).country_details == details


INVALID_DETAILS: list[tuple[Country, CountryDetails, str]] = [
    *(
        (Country.ES, SpainDetails(code), "country_details.spain.province_code")
        for code in ("00", "53", "1", "001", "", "AB")
    ),
    *(
        (Country.PT, PortugalDetails(code), "country_details.portugal.district_code")
        for code in ("00", "19", "21", "29", "31", "1", "")
    ),
    *(
        (Country.IT, ItalyDetails(code), "country_details.italy.province_code")
        for code in ("rm", "R", "ROM", "R1", "", "ÀB")
    ),
    *(
        (Country.MX, MexicoDetails(code), "country_details.mexico.state_code")
        for code in ("XX", "df", "CDMX", "", "MX")
    ),
    *(
        (Country.CO, ColombiaDetails(stratum), "country_details.colombia.socioeconomic_stratum")
        for stratum in (0, 7, -1)
    ),
    *(
        (Country.BR, BrazilDetails(code), "country_details.brazil.state_code")
        for code in ("XX", "sp", "BR", "", "SPO")
    ),
]


@pytest.mark.parametrize(("country", "details", "field"), INVALID_DETAILS)
def test_invalid_country_details_are_refused(country: Country, details: CountryDetails, field: str) -> None:
    assert reasons_of(draft(country, country_details=details)) == {field: "COUNTRY_DETAILS_INVALID"}


@pytest.mark.parametrize(("country", "other"), list(itertools.permutations(Country, 2)))
def test_country_details_must_match_the_country(country: Country, other: Country) -> None:
    assert reasons_of(draft(country, country_details=DETAILS[other])) == {
        "country_details": "COUNTRY_DETAILS_MISMATCH"
    }


# Workflow ----------------------------------------------------------------------------------------

# SPEC §5, written out again here so that the code is checked against the text, not against itself.
WORKFLOW = {
    (Status.PENDING, Status.VALIDATING),
    (Status.PENDING, Status.CANCELLED),
    (Status.VALIDATING, Status.APPROVED),
    (Status.VALIDATING, Status.REJECTED),
    (Status.VALIDATING, Status.UNDER_REVIEW),
    (Status.APPROVED, Status.COMPLETED),
    (Status.APPROVED, Status.CANCELLED),
    (Status.UNDER_REVIEW, Status.APPROVED),
    (Status.UNDER_REVIEW, Status.REJECTED),
    (Status.UNDER_REVIEW, Status.CANCELLED),
}
AUTHORITY = {
    Actor.SCORING: {
        (Status.PENDING, Status.VALIDATING),
        (Status.VALIDATING, Status.APPROVED),
        (Status.VALIDATING, Status.REJECTED),
        (Status.VALIDATING, Status.UNDER_REVIEW),
    },
    Actor.ANALYST: {(Status.UNDER_REVIEW, Status.APPROVED), (Status.UNDER_REVIEW, Status.REJECTED)},
    Actor.CHANNEL: {
        (Status.PENDING, Status.CANCELLED),
        (Status.UNDER_REVIEW, Status.CANCELLED),
        (Status.APPROVED, Status.CANCELLED),
    },
    Actor.BANK: {
        (Status.APPROVED, Status.COMPLETED),
        (Status.APPROVED, Status.CANCELLED),
        (Status.VALIDATING, Status.REJECTED),
        (Status.UNDER_REVIEW, Status.REJECTED),
    },
}


def test_transitions_are_the_specs_diagram() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == WORKFLOW
    assert set(TRANSITIONS) == set(Status)


def test_permitted_moves_are_the_specs_authority_table() -> None:
    assert {actor: set(moves) for actor, moves in PERMITTED_MOVES.items()} == AUTHORITY


def test_every_move_in_the_workflow_belongs_to_some_actor() -> None:
    assert set().union(*PERMITTED_MOVES.values()) == WORKFLOW


def test_final_statuses() -> None:
    assert {Status.REJECTED, Status.CANCELLED, Status.COMPLETED} == FINAL_STATUSES
    assert all(not TRANSITIONS[status] for status in FINAL_STATUSES)
    assert all(TRANSITIONS[status] for status in set(Status) - FINAL_STATUSES)


@pytest.mark.parametrize(
    ("current", "target", "actor"),
    [(current, target, actor) for actor, moves in AUTHORITY.items() for current, target in sorted(moves)],
)
def test_every_permitted_move_succeeds_for_its_actor(current: Status, target: Status, actor: Actor) -> None:
    check_transition(current, target, actor)


@pytest.mark.parametrize(
    ("current", "target", "actor"),
    [
        triple
        for triple in itertools.product(Status, Status, Actor)
        if (triple[0], triple[1]) not in AUTHORITY[triple[2]]
    ],
)
def test_every_other_move_is_refused_with_the_right_error(
    current: Status, target: Status, actor: Actor
) -> None:
    if (current, target) in WORKFLOW:
        with pytest.raises(TransitionNotPermitted) as not_permitted:
            check_transition(current, target, actor)
        assert not_permitted.value.reason == "TRANSITION_NOT_PERMITTED"
        assert dict(not_permitted.value.metadata) == {"from": current, "to": target, "actor": actor}
    else:
        with pytest.raises(InvalidStatusTransition) as invalid:
            check_transition(current, target, actor)
        assert invalid.value.reason == "INVALID_STATUS_TRANSITION"
        assert dict(invalid.value.metadata) == {"from": current.value, "to": target.value}
        assert (invalid.value.current, invalid.value.target) == (current, target)


@pytest.mark.parametrize(("final", "target", "actor"), list(itertools.product(FINAL_STATUSES, Status, Actor)))
def test_nothing_leaves_a_final_state(final: Status, target: Status, actor: Actor) -> None:
    with pytest.raises(InvalidStatusTransition):
        check_transition(final, target, actor)


@pytest.mark.parametrize(("status", "actor"), list(itertools.product(Status, Actor)))
def test_moving_to_the_same_status_is_invalid(status: Status, actor: Actor) -> None:
    with pytest.raises(InvalidStatusTransition):
        check_transition(status, status, actor)


@given(st.lists(st.tuples(st.sampled_from(Status), st.sampled_from(Actor)), max_size=30))
def test_any_sequence_of_moves_ends_within_four_steps_and_stays_final(
    attempts: list[tuple[Status, Actor]],
) -> None:
    # The longest path is PENDING → VALIDATING → UNDER_REVIEW → APPROVED → COMPLETED: no cycles.
    status, moves = Status.PENDING, 0
    for target, actor in attempts:
        try:
            check_transition(status, target, actor)
        except (InvalidStatusTransition, TransitionNotPermitted):
            continue
        assert status not in FINAL_STATUSES
        status, moves = target, moves + 1
    assert moves <= 4


# Bank confirmations ------------------------------------------------------------------------------

BANK_OUTCOMES = {
    (Status.APPROVED, True, True): Status.COMPLETED,
    (Status.APPROVED, False, True): Status.CANCELLED,
    (Status.APPROVED, False, False): Status.CANCELLED,
    (Status.VALIDATING, False, False): Status.REJECTED,
    (Status.VALIDATING, False, True): Status.REJECTED,
    (Status.UNDER_REVIEW, False, False): Status.REJECTED,
    (Status.UNDER_REVIEW, False, True): Status.REJECTED,
}


@pytest.mark.parametrize(
    ("current", "verified", "disbursed"), list(itertools.product(Status, [True, False], [True, False]))
)
def test_bank_outcome_table(current: Status, verified: bool, disbursed: bool) -> None:
    expected = BANK_OUTCOMES.get((current, verified, disbursed))
    outcome = bank_outcome(current, identity_verified=verified, disbursed=disbursed)
    assert outcome == expected
    if outcome is not None:
        check_transition(current, outcome, Actor.BANK)


# Reasons -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "reason"), [("ok", "ok"), ("  income verified  ", "income verified")])
def test_reason_is_trimmed(text: str, reason: str) -> None:
    assert reason_required(text) == reason


def test_reason_may_be_1000_characters() -> None:
    assert reason_required(" " + "r" * 1000 + " ") == "r" * 1000


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "r" * 1001])
def test_missing_or_overlong_reason_is_refused(text: str) -> None:
    with pytest.raises(ReasonRequired) as info:
        reason_required(text)
    assert info.value.reason == "REASON_REQUIRED"


# Errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "reason", "metadata"),
    [
        (ApplicationNotFound(), "APPLICATION_NOT_FOUND", {}),
        (ApplicationNotFound("applications/1"), "APPLICATION_NOT_FOUND", {"application": "applications/1"}),
        (EtagMismatch(), "ETAG_MISMATCH", {}),
        (RequestIdReused(), "REQUEST_ID_REUSED", {}),
        (DuplicateApplication("applications/7"), "DUPLICATE_APPLICATION", {"application": "applications/7"}),
        (WebhookIdReused("wh_1"), "WEBHOOK_ID_REUSED", {"webhook_id": "wh_1"}),
        (PiiReadNotPermitted(), "PII_READ_NOT_PERMITTED", {}),
        (ReasonRequired(), "REASON_REQUIRED", {}),
    ],
)
def test_domain_errors_carry_a_stable_reason_and_metadata(
    error: DomainError, reason: str, metadata: dict[str, str]
) -> None:
    assert isinstance(error, DomainError)
    assert error.reason == reason
    assert dict(error.metadata) == metadata
    assert error.description
    assert str(error) == error.description


def test_domain_error_metadata_is_read_only() -> None:
    error = DuplicateApplication("applications/7")
    with pytest.raises(TypeError):
        error.metadata["application"] = "other"  # type: ignore[index]


# Boundaries --------------------------------------------------------------------------------------


def test_the_domain_imports_no_infrastructure() -> None:
    # A fresh interpreter, so that modules other tests loaded do not count.
    modules = "intake.domain, intake.documents, intake.money, intake.countries, intake.errors"
    code = f"import sys, {modules}; print(' '.join(sys.modules))"
    loaded = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    forbidden = {"grpc", "google", "globalcredit", "sqlalchemy", "nats", "svckit", "asyncpg", "cryptography"}
    assert sorted({name.split(".")[0] for name in loaded} & forbidden) == []
