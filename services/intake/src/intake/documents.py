"""National identity documents: normalisation, validation per country (SPEC §3) and masking.

Checksums come from python-stdnum. The rules stdnum does not apply, or applies more loosely than the
SPEC, are written here: the exact shape of each document (stdnum strips prefixes and accepts other
document kinds), Portugal's individuals-only rule, Brazil's all-equal CPFs, Italy's day ranges, the
Mexican age check and the whole Colombian cédula. Error descriptions never repeat the document.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from stdnum.br import cpf
from stdnum.es import dni, nie
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.it import codicefiscale
from stdnum.mx import curp
from stdnum.pt import nif

from intake.countries import MEXICAN_STATE_CODES, Country
from intake.errors import DomainError

REQUIRED = "IDENTITY_DOCUMENT_REQUIRED"
FORMAT_INVALID = "IDENTITY_DOCUMENT_FORMAT_INVALID"
CHECKSUM_INVALID = "IDENTITY_DOCUMENT_CHECKSUM_INVALID"
NOT_INDIVIDUAL = "IDENTITY_DOCUMENT_NOT_INDIVIDUAL"
UNDERAGE = "APPLICANT_UNDERAGE"

ADULT_AGE = 18
VISIBLE_CHARACTERS = 4


class DocumentType(StrEnum):
    """The kind of document, derived from the country and the document's form."""

    ES_DNI = "ES_DNI"
    ES_NIE = "ES_NIE"
    PT_NIF = "PT_NIF"
    IT_CODICE_FISCALE = "IT_CODICE_FISCALE"
    MX_CURP = "MX_CURP"
    CO_CEDULA = "CO_CEDULA"
    BR_CPF = "BR_CPF"


@dataclass(frozen=True)
class IdentityDocument:
    """A validated document. `number` is normalised: no separators, upper case."""

    country: Country
    number: str
    type: DocumentType


class DocumentRejected(DomainError):
    """The document is missing or not valid for the country; `reason` says how, in a stable code."""

    def __init__(self, reason: str, description: str) -> None:
        super().__init__(reason, description)


# Upper-case ASCII only: every accepted document is ASCII, and full Unicode case mapping could turn a
# foreign letter into an ASCII one (the dotless i upper-cases to "I") and let a look-alike through.
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SEPARATORS = frozenset(".-/")


def normalise_document(country: Country, raw: str) -> str:
    """The canonical form of a document as typed: separators (whitespace, `.`, `-`, `/`) removed and
    letters upper-cased. The rule is the same for every country today; `country` keeps the door open."""
    kept = (c for c in raw.strip() if not c.isspace() and c not in _SEPARATORS)
    return "".join(kept).translate(_ASCII_UPPER)


def mask_document(number: str) -> str:
    """The document as answers show it: only the last four characters visible (`********678Z`); a
    document of four characters or fewer is masked entirely, since its tail would be all of it."""
    if len(number) <= VISIBLE_CHARACTERS:
        return "*" * len(number)
    return "*" * (len(number) - VISIBLE_CHARACTERS) + number[-VISIBLE_CHARACTERS:]


def validate_document(country: Country, raw: str, *, today: date) -> IdentityDocument:
    """Normalise and validate `raw` as the identity document `country` accepts.

    `today` is the applicant's current date, for the age check. Raises `DocumentRejected`.
    """
    number = normalise_document(country, raw)
    if not number:
        raise DocumentRejected(REQUIRED, "an identity document is required")
    document_type = _VALIDATORS[country](number, today)
    return IdentityDocument(country=country, number=number, type=document_type)


def _format_invalid(description: str) -> DocumentRejected:
    return DocumentRejected(FORMAT_INVALID, description)


def _require_shape(pattern: re.Pattern[str], number: str, description: str) -> None:
    # fullmatch, because `$` would also match before a trailing newline.
    if not pattern.fullmatch(number):
        raise _format_invalid(description)


def _run_stdnum(validate: Callable[[str], str], number: str, *, checksum: str, structure: str) -> None:
    """Run a stdnum validator, mapping its exceptions onto our reasons.

    InvalidFormat, InvalidLength and InvalidComponent (a bad date, an unknown state, a blocked word)
    all mean the structure is wrong; only InvalidChecksum means the structure is right and the check
    digit or letter is not.
    """
    try:
        validate(number)
    except InvalidChecksum:
        raise DocumentRejected(CHECKSUM_INVALID, checksum) from None
    except ValidationError:
        raise _format_invalid(structure) from None


# Spain ---------------------------------------------------------------------------------------------

_DNI = re.compile(r"[0-9]{8}[A-Z]")
_NIE = re.compile(r"[XYZ][0-9]{7}[A-Z]")


_NIE_STRUCTURE = "a NIE is X, Y or Z, then seven digits and a check letter"
_DNI_STRUCTURE = "a DNI is eight digits and a check letter"
_ES_CHECKSUM = "the check letter does not match the number"


def _spain(number: str, today: date) -> DocumentType:
    # A NIE starts with X, Y or Z; anything else can only be a DNI.
    if number[0] in "XYZ":
        _require_shape(_NIE, number, _NIE_STRUCTURE)
        _run_stdnum(nie.validate, number, checksum=_ES_CHECKSUM, structure=_NIE_STRUCTURE)
        return DocumentType.ES_NIE
    _require_shape(_DNI, number, _DNI_STRUCTURE)
    _run_stdnum(dni.validate, number, checksum=_ES_CHECKSUM, structure=_DNI_STRUCTURE)
    return DocumentType.ES_DNI


# Portugal ------------------------------------------------------------------------------------------

# stdnum strips a leading "PT" (it validates VAT numbers), so the shape is checked here first.
_NIF = re.compile(r"[0-9]{9}")
_NIF_STRUCTURE = "a NIF is nine digits and does not start with 0"


def _portugal(number: str, today: date) -> DocumentType:
    _require_shape(_NIF, number, _NIF_STRUCTURE)
    _run_stdnum(
        nif.validate,
        number,
        checksum="the check digit does not match the number",
        structure=_NIF_STRUCTURE,
    )
    # 1, 2 and 3 are residents, 45 non-resident individuals; 5 companies, 6 the state, 7x/9x
    # estates, funds and others - all valid NIFs, none of them a person who can borrow.
    if number[0] not in "123" and not number.startswith("45"):
        raise DocumentRejected(NOT_INDIVIDUAL, "the NIF is valid but does not belong to an individual")
    return DocumentType.PT_NIF


# Italy ---------------------------------------------------------------------------------------------

# Omocodia: when two people would share a code, digits are replaced from the right by these letters,
# so the digit positions accept either. The municipality (Belfiore) code starts with A-M, or Z for a
# birth abroad. stdnum accepts 11-digit company numbers too; only personal codes are matched here.
_OMOCODIA_DIGIT = "[0-9LMNPQRSTUV]"
_CODICE_FISCALE = re.compile(
    rf"[A-Z]{{6}}{_OMOCODIA_DIGIT}{{2}}[ABCDEHLMPRST]{_OMOCODIA_DIGIT}{{2}}[A-MZ]{_OMOCODIA_DIGIT}{{3}}[A-Z]"
)
_OMOCODIA_TO_DIGIT = str.maketrans("LMNPQRSTUV", "0123456789")
_CF_STRUCTURE = (
    "a codice fiscale is 16 characters: six letters, birth year, month letter, birth day, "
    "municipality code and a check letter"
)


def _italy(number: str, today: date) -> DocumentType:
    _require_shape(_CODICE_FISCALE, number, _CF_STRUCTURE)
    # The day is 1-31 for men and 41-71 for women; stdnum takes it modulo 40 and so lets 81-91 through.
    day = int(number[9:11].translate(_OMOCODIA_TO_DIGIT))
    if not (1 <= day <= 31 or 41 <= day <= 71):
        raise _format_invalid("the birth day in the codice fiscale is not a valid day")
    # Checked before the check letter so that an impossible date (31 February) reads as a structure
    # error; stdnum's own validate checks the date only after the checksum.
    try:
        codicefiscale.get_birth_date(number)
    except ValidationError:
        raise _format_invalid("the birth date in the codice fiscale is not a valid date") from None
    _run_stdnum(
        codicefiscale.validate,
        number,
        checksum="the check letter does not match the code",
        structure=_CF_STRUCTURE,
    )
    # No age check here, although the birth date is in the code: the SPEC demands it for Mexico only,
    # and a two-digit year makes the century a guess.
    return DocumentType.IT_CODICE_FISCALE


# Mexico --------------------------------------------------------------------------------------------

# RENAPO's published structure, stricter than stdnum's: the second letter is the first inner vowel
# of the first surname (X when there is none), positions 14-16 the first inner consonants (X when
# none), position 11 the sex (H or M). stdnum adds the blocked words, the date and the state codes.
_CURP = re.compile(r"[A-Z][AEIOUX][A-Z]{2}[0-9]{6}[HM][A-Z]{2}[B-DF-HJ-NP-TV-Z]{3}[0-9A-Z][0-9]")
_CURP_STRUCTURE = (
    "a CURP is 18 characters: four letters, a birth date, sex, state code, three consonants, "
    "a homonym character and a check digit"
)


def _mexico(number: str, today: date) -> DocumentType:
    _require_shape(_CURP, number, _CURP_STRUCTURE)
    # Checked ahead of stdnum, which reports both as the same InvalidComponent, to say which part is wrong.
    try:
        born = curp.get_birth_date(number)
    except ValidationError:
        raise _format_invalid("the birth date in the CURP is not a valid date") from None
    if number[11:13] not in MEXICAN_STATE_CODES:
        raise _format_invalid("the state code in the CURP is not one of RENAPO's codes")
    _run_stdnum(
        curp.validate,
        number,
        checksum="the check digit does not match the code",
        structure=_CURP_STRUCTURE,
    )
    if born > today:
        raise _format_invalid("the birth date in the CURP is in the future")
    if _age(born, today) < ADULT_AGE:
        raise DocumentRejected(UNDERAGE, "the applicant must be at least 18 years old")
    return DocumentType.MX_CURP


def _age(born: date, today: date) -> int:
    # Whole years; someone born on 29 February comes of age on 1 March in a common year.
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# Colombia ------------------------------------------------------------------------------------------

# No library knows the cédula: 6 to 10 digits, no check digit.
_CEDULA = re.compile(r"[0-9]{6,10}")


def _colombia(number: str, today: date) -> DocumentType:
    if not number.isascii() or not number.isdigit():
        raise _format_invalid("a cédula has digits only")
    _require_shape(_CEDULA, number, "a cédula has 6 to 10 digits")
    return DocumentType.CO_CEDULA


# Brazil --------------------------------------------------------------------------------------------

_CPF = re.compile(r"[0-9]{11}")
_CPF_STRUCTURE = "a CPF is eleven digits"


def _brazil(number: str, today: date) -> DocumentType:
    _require_shape(_CPF, number, _CPF_STRUCTURE)
    # 111.111.111-11 and its kind satisfy both check digits, yet the Receita Federal never issues them;
    # stdnum refuses only 000.000.000-00.
    if len(set(number)) == 1:
        raise _format_invalid("a CPF cannot have all digits equal")
    _run_stdnum(
        cpf.validate,
        number,
        checksum="the check digits do not match the number",
        structure=_CPF_STRUCTURE,
    )
    return DocumentType.BR_CPF


_VALIDATORS: dict[Country, Callable[[str, date], DocumentType]] = {
    Country.ES: _spain,
    Country.PT: _portugal,
    Country.IT: _italy,
    Country.MX: _mexico,
    Country.CO: _colombia,
    Country.BR: _brazil,
}
