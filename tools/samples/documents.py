"""Valid national identity documents made from a number, so that tests and benchmarks can create as
many distinct applicants as they need. Check digits come from python-stdnum where it has the country."""

import random
import string
from datetime import date

from stdnum.it import codicefiscale
from stdnum.mx import curp

_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_CONSONANTS = "BCDFGHJKLMNPQRSTVWXYZ"
_VOWELS = "AEIOU"
_MEXICAN_STATES = ("AS", "BC", "CH", "DF", "GT", "JC", "MC", "NL", "PL", "QT", "SP", "VZ", "YN")
_ITALIAN_MONTHS = "ABCDEHLMPRST"


def spanish_dni(rng: random.Random) -> str:
    number = rng.randrange(10_000_000, 100_000_000)
    return f"{number:08d}{_DNI_LETTERS[number % 23]}"


def portuguese_nif(rng: random.Random) -> str:
    digits = [rng.choice((1, 2, 3)), *(rng.randrange(10) for _ in range(7))]
    remainder = sum(digit * weight for digit, weight in zip(digits, range(9, 1, -1), strict=True)) % 11
    check = 0 if remainder < 2 else 11 - remainder
    return "".join(map(str, digits)) + str(check)


def italian_codice_fiscale(rng: random.Random) -> str:
    surname = "".join(rng.choice(_CONSONANTS) for _ in range(3))
    name = "".join(rng.choice(_CONSONANTS) for _ in range(3))
    year = rng.randrange(40, 100)
    month = rng.choice(_ITALIAN_MONTHS)
    day = rng.randrange(1, 29) + rng.choice((0, 40))
    municipality = rng.choice("ABCDEFGHILM") + f"{rng.randrange(1, 1000):03d}"
    body = f"{surname}{name}{year:02d}{month}{day:02d}{municipality}"
    return body + codicefiscale.calc_check_digit(body)


def mexican_curp(rng: random.Random, *, born: date | None = None) -> str:
    """A CURP of a person born in the 20th century (or on `born`, any century)."""
    while True:
        initials = "".join(rng.choice(pool) for pool in (_CONSONANTS, _VOWELS, _CONSONANTS, _CONSONANTS))
        birth = born or date(rng.randrange(1940, 2000), rng.randrange(1, 13), rng.randrange(1, 29))
        century_digit = str(rng.randrange(10)) if birth.year < 2000 else rng.choice(string.ascii_uppercase)
        body = (
            f"{initials}{birth:%y%m%d}{rng.choice('HM')}{rng.choice(_MEXICAN_STATES)}"
            f"{''.join(rng.choice(_CONSONANTS) for _ in range(3))}{century_digit}"
        )
        candidate = body + curp.calc_check_digit(body)
        if curp.is_valid(candidate):  # stdnum refuses a few offensive first four letters
            return candidate


def colombian_cedula(rng: random.Random) -> str:
    return str(rng.randrange(100_000_000, 10_000_000_000))


def brazilian_cpf(rng: random.Random) -> str:
    while True:
        digits = [rng.randrange(10) for _ in range(9)]
        if len(set(digits)) > 1:
            break
    for length in (9, 10):
        total = sum(digit * weight for digit, weight in zip(digits, range(length + 1, 1, -1), strict=True))
        digits.append(total * 10 % 11 % 10)
    return "".join(map(str, digits))


GENERATORS = {
    "ES": spanish_dni,
    "PT": portuguese_nif,
    "IT": italian_codice_fiscale,
    "MX": mexican_curp,
    "CO": colombian_cedula,
    "BR": brazilian_cpf,
}


def valid_document(country: str, rng: random.Random) -> str:
    """A valid document of `country` (ES, PT, IT, MX, CO, BR)."""
    return GENERATORS[country](rng)
