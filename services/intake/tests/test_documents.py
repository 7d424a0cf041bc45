"""National identity documents: SPEC §3's vectors, the rules stdnum lacks, and checksum properties."""

from __future__ import annotations

import string
from datetime import date, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from stdnum.it import codicefiscale
from stdnum.mx import curp

from intake.countries import Country
from intake.documents import (
    CHECKSUM_INVALID,
    FORMAT_INVALID,
    NOT_INDIVIDUAL,
    REQUIRED,
    UNDERAGE,
    DocumentRejected,
    DocumentType,
    IdentityDocument,
    mask_document,
    normalise_document,
    validate_document,
)

TODAY = date(2026, 11, 28)

# Written from the SPEC, not taken from stdnum, so that the two check each other.
DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni_letter(number: int) -> str:
    return DNI_LETTERS[number % 23]


def cpf_check_digits(body: str) -> str:
    first = sum(int(d) * w for d, w in zip(body, range(10, 1, -1), strict=True)) * 10 % 11 % 10
    second = sum(int(d) * w for d, w in zip(body + str(first), range(11, 1, -1), strict=True)) * 10 % 11 % 10
    return f"{first}{second}"


def with_curp_check(first_seventeen: str) -> str:
    return first_seventeen + curp.calc_check_digit(first_seventeen)


def curp_born(born: date, prefix: str = "HERM", middle: str = "MDFRRR") -> str:
    # The 17th character is a digit for births before 2000 and a letter from 2000 on.
    return with_curp_check(f"{prefix}{born:%y%m%d}{middle}{'0' if born.year < 2000 else 'A'}")


def with_cf_check(first_fifteen: str) -> str:
    return first_fifteen + codicefiscale.calc_check_digit(first_fifteen)


def rejected(country: Country, raw: str, today: date = TODAY) -> DocumentRejected:
    with pytest.raises(DocumentRejected) as info:
        validate_document(country, raw, today=today)
    error = info.value
    # Whatever the reason, the description never repeats the document.
    normalised = normalise_document(country, raw)
    assert not normalised or normalised not in error.description
    assert not raw.strip() or raw.strip() not in error.description
    return error


# SPEC §3's vectors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "raw", "number", "document_type"),
    [
        (Country.ES, "12345678Z", "12345678Z", DocumentType.ES_DNI),
        (Country.ES, "X1234567L", "X1234567L", DocumentType.ES_NIE),
        (Country.PT, "123456789", "123456789", DocumentType.PT_NIF),
        (Country.IT, "RSSMRA80A01H501U", "RSSMRA80A01H501U", DocumentType.IT_CODICE_FISCALE),
        (Country.MX, "HERM850101MDFRRR08", "HERM850101MDFRRR08", DocumentType.MX_CURP),
        (Country.MX, "BOXW310820HNERXN09", "BOXW310820HNERXN09", DocumentType.MX_CURP),
        (Country.CO, "1234567890", "1234567890", DocumentType.CO_CEDULA),
        (Country.BR, "11144477735", "11144477735", DocumentType.BR_CPF),
        (Country.BR, "529.982.247-25", "52998224725", DocumentType.BR_CPF),
    ],
)
def test_spec_valid_documents_are_accepted(
    country: Country, raw: str, number: str, document_type: DocumentType
) -> None:
    assert validate_document(country, raw, today=TODAY) == IdentityDocument(country, number, document_type)


@pytest.mark.parametrize(
    ("country", "raw", "reason"),
    [
        (Country.ES, "12345678A", CHECKSUM_INVALID),
        (Country.PT, "123456780", CHECKSUM_INVALID),
        (Country.PT, "501964843", NOT_INDIVIDUAL),
        (Country.IT, "RSSMRA80A01H501A", CHECKSUM_INVALID),
        (Country.MX, "HERM850101MDFRRR01", CHECKSUM_INVALID),
        (Country.BR, "11111111111", FORMAT_INVALID),
        (Country.BR, "12345678900", CHECKSUM_INVALID),
        (Country.CO, "12345", FORMAT_INVALID),
        (Country.CO, "12345678901", FORMAT_INVALID),
        (Country.CO, "12A4567", FORMAT_INVALID),
    ],
)
def test_spec_invalid_documents_are_refused_with_their_reason(
    country: Country, raw: str, reason: str
) -> None:
    assert rejected(country, raw).reason == reason


def test_curp_of_someone_under_18_today_is_refused_as_underage() -> None:
    today = date.today()
    about_seventeen = today - timedelta(days=17 * 365)
    assert rejected(Country.MX, curp_born(about_seventeen), today=today).reason == UNDERAGE


# Normalisation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  12345678z ", "12345678Z"),
        ("1234-5678-z", "12345678Z"),
        ("x.1234567/l", "X1234567L"),
        ("529 982 247\t25", "52998224725"),
        ("\u00a0123456789\u00a0", "123456789"),
        ("", ""),
        (" - . / ", ""),
    ],
)
def test_normalise_removes_separators_and_upper_cases(raw: str, normalised: str) -> None:
    assert normalise_document(Country.ES, raw) == normalised


def test_normalise_upper_cases_only_ascii_letters() -> None:
    # The dotless i upper-cases to "I" in Unicode; a document must not become valid through a foreign letter.
    assert normalise_document(Country.IT, "rssmra80a01h501\u0131") == "RSSMRA80A01H501\u0131"
    assert rejected(Country.IT, "rssmra80a01h501\u0131").reason == FORMAT_INVALID


@given(st.text())
@example(" a.b-c/d e ")
@example("straße ǆ")
def test_normalise_is_idempotent(raw: str) -> None:
    once = normalise_document(Country.ES, raw)
    assert normalise_document(Country.ES, once) == once


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", " .-/ "])
@pytest.mark.parametrize("country", list(Country))
def test_empty_document_is_required(country: Country, raw: str) -> None:
    assert rejected(country, raw).reason == REQUIRED


# Spain -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "document_type"),
    [
        ("12345678z", DocumentType.ES_DNI),
        ("12.345.678-Z", DocumentType.ES_DNI),
        ("00000000T", DocumentType.ES_DNI),
        ("x1234567l", DocumentType.ES_NIE),
        ("Y1234567X", DocumentType.ES_NIE),
        ("Z1234567R", DocumentType.ES_NIE),
        ("X-1234567-L", DocumentType.ES_NIE),
    ],
)
def test_spanish_dni_and_nie_are_told_apart_by_their_first_character(
    raw: str, document_type: DocumentType
) -> None:
    assert validate_document(Country.ES, raw, today=TODAY).type == document_type


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1234567Z", FORMAT_INVALID),  # seven digits
        ("123456789Z", FORMAT_INVALID),  # nine digits
        ("123456789", FORMAT_INVALID),  # no letter
        ("K1234567L", FORMAT_INVALID),  # K is not a NIE letter
        ("X123456L", FORMAT_INVALID),  # NIE with six digits
        ("X12345678L", FORMAT_INVALID),  # NIE with eight digits
        ("XX234567L", FORMAT_INVALID),
        ("12345678Ñ", FORMAT_INVALID),
        ("Y1234567L", CHECKSUM_INVALID),  # X's letter under Y
        ("Z1234567L", CHECKSUM_INVALID),
    ],
)
def test_malformed_spanish_documents_are_refused(raw: str, reason: str) -> None:
    assert rejected(Country.ES, raw).reason == reason


@given(st.integers(min_value=0, max_value=99_999_999))
def test_dni_with_the_right_letter_validates_and_every_other_letter_fails_checksum(number: int) -> None:
    digits = f"{number:08d}"
    right = dni_letter(number)
    assert validate_document(Country.ES, digits + right, today=TODAY).type == DocumentType.ES_DNI
    for letter in string.ascii_uppercase.replace(right, ""):
        assert rejected(Country.ES, digits + letter).reason == CHECKSUM_INVALID


@given(st.sampled_from("XYZ"), st.integers(min_value=0, max_value=9_999_999))
def test_nie_letter_follows_the_dni_rule_with_x_y_z_as_0_1_2(prefix: str, number: int) -> None:
    digits = f"{number:07d}"
    right = dni_letter(int(str("XYZ".index(prefix)) + digits))
    assert validate_document(Country.ES, prefix + digits + right, today=TODAY).type == DocumentType.ES_NIE
    wrong = next(c for c in DNI_LETTERS if c != right)
    assert rejected(Country.ES, prefix + digits + wrong).reason == CHECKSUM_INVALID


# Portugal ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["123456789", "234567899", "312345674", "451234561", "123 456 789", "123.456.789"]
)
def test_portuguese_nif_of_individuals_are_accepted(raw: str) -> None:
    assert validate_document(Country.PT, raw, today=TODAY).type == DocumentType.PT_NIF


@pytest.mark.parametrize(
    "raw",
    [
        "501964843",  # a company
        "600000001",  # public body (check digit right, individual rule wrong)
        "700000003",
        "980000009",
        "412345676",  # 4 is individual only as 45
    ],
)
def test_valid_nif_that_is_not_an_individuals_is_refused(raw: str) -> None:
    assert rejected(Country.PT, raw).reason == NOT_INDIVIDUAL


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("PT123456789", FORMAT_INVALID),  # stdnum strips the VAT prefix; a NIF has none
        ("12345678", FORMAT_INVALID),
        ("1234567890", FORMAT_INVALID),
        ("012345678", FORMAT_INVALID),  # never starts with 0
        ("12345678A", FORMAT_INVALID),
        ("123456780", CHECKSUM_INVALID),
        ("501964842", CHECKSUM_INVALID),  # a broken company number is a checksum error first
    ],
)
def test_malformed_portuguese_nif_is_refused(raw: str, reason: str) -> None:
    assert rejected(Country.PT, raw).reason == reason


def test_nif_check_digits_of_the_examples_are_right() -> None:
    # Guards the vectors above: weights 9..2, mod 11, 10 and 11 giving 0.
    for nif in ["234567899", "312345674", "451234561", "600000001", "700000003", "980000009", "412345676"]:
        total = sum(int(d) * w for d, w in zip(nif[:8], range(9, 1, -1), strict=True))
        assert str((11 - total % 11) % 11 % 10) == nif[8]


# Italy -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "RSSMRA80A01H501U",
        "rssmra80a01h501u",
        "RSS MRA 80A01 H501U",
        with_cf_check("RSSMRA80A01H50M"),  # one omocodic substitution
        with_cf_check("RSSMRA80A01H5LM"),  # two
        with_cf_check("RSSMRAULALMHRLM"),  # every digit substituted
        with_cf_check("BNCLRA85T41F205"),  # a woman: day + 40
        with_cf_check("BNCLRA85T71F205"),  # the 31st, a woman
        with_cf_check("SMTJHN70E15Z114"),  # born abroad: Z code
    ],
)
def test_italian_codice_fiscale_is_accepted_including_omocodia(raw: str) -> None:
    assert validate_document(Country.IT, raw, today=TODAY).type == DocumentType.IT_CODICE_FISCALE


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("RSSMRA80A01H501A", CHECKSUM_INVALID),
        (with_cf_check("RSSMRA80A01H50M")[:-1] + "U", CHECKSUM_INVALID),  # omocodic code, original check
        ("12345678903", FORMAT_INVALID),  # a company's partita IVA, which stdnum accepts
        ("RSSMRA80A01H501", FORMAT_INVALID),
        ("RSSMRA80A01H501UX", FORMAT_INVALID),
        (with_cf_check("RSSMRA80Z01H501"), FORMAT_INVALID),  # Z is no month
        (with_cf_check("RSSMRA80A32H501"), FORMAT_INVALID),  # day 32
        (with_cf_check("RSSMRA80A00H501"), FORMAT_INVALID),  # day 0
        (with_cf_check("RSSMRA80A81H501"), FORMAT_INVALID),  # day 81: stdnum reads it as 1
        (with_cf_check("RSSMRA80B30H501"), FORMAT_INVALID),  # 30 February
        (with_cf_check("RSSMRA80A01N501"), FORMAT_INVALID),  # no municipality code starts with N
        (with_cf_check("RSSMRA80A01HA01"), FORMAT_INVALID),  # A is no omocodia letter
        (with_cf_check("R5SMRA80A01H501"), FORMAT_INVALID),
    ],
)
def test_malformed_codice_fiscale_is_refused(raw: str, reason: str) -> None:
    assert rejected(Country.IT, raw).reason == reason


# Mexico ------------------------------------------------------------------------------------------


def test_stdnum_curp_checks_the_check_digit() -> None:
    assert curp.calc_check_digit("HERM850101MDFRRR0") == "8"
    assert rejected(Country.MX, "HERM850101MDFRRR01").reason == CHECKSUM_INVALID
    assert validate_document(Country.MX, "herm850101mdfrrr08", today=TODAY).number == "HERM850101MDFRRR08"


@pytest.mark.parametrize(
    "raw",
    [
        curp_born(date(1985, 2, 28)),
        curp_born(date(2000, 2, 29)),  # letter homonym character: born in the 2000s
        curp_born(date(1931, 8, 20), prefix="BOXW", middle="HNERXN"),
        "HERM-850101-MDFRRR-08",
    ],
)
def test_mexican_curp_is_accepted(raw: str) -> None:
    assert validate_document(Country.MX, raw, today=TODAY).type == DocumentType.MX_CURP


@pytest.mark.parametrize(
    "raw",
    [
        "HERM850101MDFRRR0",  # 17 characters
        "HERM850101MDFRRR088",
        with_curp_check("HERM850101XDFRRR0"),  # sex must be H or M
        with_curp_check("HERM850230MDFRRR0"),  # 30 February
        with_curp_check("HERM851301MDFRRR0"),  # month 13
        with_curp_check("HERM850101MXXRRR0"),  # no state XX
        with_curp_check("HBRM850101MDFRRR0"),  # second letter a consonant
        with_curp_check("HERM850101MDFRAR0"),  # a vowel among the inner consonants
        with_curp_check("BACA850101MDFRRR0"),  # a blocked word
        with_curp_check("HERM850101MDFRRRA"),  # a letter homonym character says 2085: in the future
        "HERM850101MDFRRR_08",
    ],
)
def test_malformed_curp_is_refused_as_format_invalid(raw: str) -> None:
    assert rejected(Country.MX, raw).reason == FORMAT_INVALID


def test_curp_birth_date_in_the_future_is_format_invalid() -> None:
    assert rejected(Country.MX, curp_born(TODAY + timedelta(days=1))).reason == FORMAT_INVALID


@pytest.mark.parametrize(
    ("born", "accepted"),
    [
        (date(2008, 11, 28), True),  # 18 today
        (date(2008, 11, 29), False),  # 18 tomorrow
        (date(2008, 11, 27), True),
        (date(2010, 1, 1), False),
        (TODAY, False),  # born today
    ],
)
def test_curp_holder_must_be_18_on_the_day(born: date, accepted: bool) -> None:
    raw = curp_born(born)
    if accepted:
        assert validate_document(Country.MX, raw, today=TODAY).type == DocumentType.MX_CURP
    else:
        assert rejected(Country.MX, raw).reason == UNDERAGE


def test_curp_holder_born_on_29_february_comes_of_age_on_1_march() -> None:
    raw = curp_born(date(2004, 2, 29))
    assert rejected(Country.MX, raw, today=date(2022, 2, 28)).reason == UNDERAGE
    assert validate_document(Country.MX, raw, today=date(2022, 3, 1)).type == DocumentType.MX_CURP


def test_underage_is_reported_only_for_a_curp_with_a_valid_check_digit() -> None:
    raw = curp_born(date(2015, 5, 5))
    wrong = raw[:-1] + str((int(raw[-1]) + 1) % 10)
    assert rejected(Country.MX, wrong).reason == CHECKSUM_INVALID


# Colombia ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["123456", "1234567890", "1.234.567.890", "12 345 678", "79-123-456"])
def test_colombian_cedula_of_6_to_10_digits_is_accepted(raw: str) -> None:
    assert validate_document(Country.CO, raw, today=TODAY).type == DocumentType.CO_CEDULA


@pytest.mark.parametrize(
    "raw",
    [
        "12345",
        "12345678901",
        "12A4567",
        "1234567X",
        "CC12345678",
        "\uff11\uff12\uff13\uff14\uff15\uff16\uff17",
        "\u0661\u0662\u0663\u0664\u0665\u0666\u0667",
        "1234_5678",
    ],
)
def test_malformed_cedula_is_refused(raw: str) -> None:
    assert rejected(Country.CO, raw).reason == FORMAT_INVALID


# Brazil ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("digit", string.digits)
def test_cpf_with_all_digits_equal_is_refused(digit: str) -> None:
    assert rejected(Country.BR, digit * 11).reason == FORMAT_INVALID
    assert rejected(Country.BR, f"{digit * 3}.{digit * 3}.{digit * 3}-{digit * 2}").reason == FORMAT_INVALID


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1114447773", FORMAT_INVALID),
        ("111444777350", FORMAT_INVALID),
        ("111.444.777-3X", FORMAT_INVALID),
        ("111,444,777-35", FORMAT_INVALID),
        ("11144477736", CHECKSUM_INVALID),
        ("11144477725", CHECKSUM_INVALID),
    ],
)
def test_malformed_cpf_is_refused(raw: str, reason: str) -> None:
    assert rejected(Country.BR, raw).reason == reason


cpf_bodies = st.text(alphabet=string.digits, min_size=9, max_size=9).filter(
    lambda body: len(set(body + cpf_check_digits(body))) > 1
)


@given(cpf_bodies)
def test_cpf_with_correct_check_digits_validates(body: str) -> None:
    number = body + cpf_check_digits(body)
    formatted = f"{number[:3]}.{number[3:6]}.{number[6:9]}-{number[9:]}"
    assert validate_document(Country.BR, number, today=TODAY).number == number
    assert validate_document(Country.BR, formatted, today=TODAY).number == number


@given(cpf_bodies, st.integers(min_value=0, max_value=10), st.integers(min_value=1, max_value=9))
def test_cpf_single_digit_change_fails(body: str, position: int, shift: int) -> None:
    number = body + cpf_check_digits(body)
    changed_digit = (int(number[position]) + shift) % 10
    changed = number[:position] + str(changed_digit) + number[position + 1 :]
    # The algorithm's blind spot: residues 10 and 0 both give check digit 0, so when the first check
    # digit is 0 some changes to the first nine digits keep both check digits right. Everywhere else a
    # single changed digit is caught.
    if number[9] == "0" and position < 9 and cpf_check_digits(changed[:9]) == changed[9:]:
        assert validate_document(Country.BR, changed, today=TODAY).number == changed
        return
    assert rejected(Country.BR, changed).reason in {CHECKSUM_INVALID, FORMAT_INVALID}


@pytest.mark.parametrize(
    ("number", "one_digit_away"), [("00007127103", "10007127103"), ("71254938400", "71254038400")]
)
def test_cpf_blind_spot_exists(number: str, one_digit_away: str) -> None:
    # Documents the limitation the property above allows for: both numbers of each pair are valid CPFs.
    assert validate_document(Country.BR, number, today=TODAY).number == number
    assert validate_document(Country.BR, one_digit_away, today=TODAY).number == one_digit_away


# Masking -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("12345678Z", "*****678Z"),
        ("RSSMRA80A01H501U", "************501U"),
        ("52998224725", "*******4725"),
        ("12345", "*2345"),
        ("1234", "****"),
        ("123", "***"),
        ("", ""),
    ],
)
def test_mask_shows_only_the_last_four_characters(number: str, masked: str) -> None:
    assert mask_document(number) == masked


@given(st.text())
def test_mask_never_reveals_more_than_four_characters(number: str) -> None:
    masked = mask_document(number)
    assert len(masked) == len(number)
    hidden = max(len(number) - 4, len(number) if len(number) <= 4 else 0)
    assert masked[:hidden] == "*" * hidden
    assert masked[hidden:] == number[hidden:]
    assert len(masked) - hidden <= 4
