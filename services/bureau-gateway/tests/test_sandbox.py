"""The sandbox identities: valid documents, never SPEC §3's test vectors, and reports that lead the
country's typical application to the documented decision under SPEC §6's rules."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from stdnum.br import cpf
from stdnum.es import dni, nie
from stdnum.it import codicefiscale
from stdnum.mx import curp
from stdnum.pt import nif

from bureau_gateway.bureaus import Country
from bureau_gateway.documents import normalise_document
from bureau_gateway.reports import CreditFile
from bureau_gateway.sandbox import (
    SANDBOX_IDENTITIES,
    Scenario,
    find_sandbox_identity,
    render_sandbox_markdown,
    render_sandbox_table,
)
from samples.applications import TYPICAL

README = Path(__file__).parents[1] / "README.md"

SPEC_TEST_VECTORS = {
    "12345678Z", "X1234567L", "123456789", "RSSMRA80A01H501U", "HERM850101MDFRRR08", "BOXW310820HNERXN09",
    "1234567890", "11144477735", "52998224725", "12345678A", "123456780", "501964843", "RSSMRA80A01H501A",
    "HERM850101MDFRRR01", "11111111111", "12345678900", "12345", "12345678901", "12A4567",
}  # fmt: skip


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def assert_valid_document(country: Country, document: str) -> None:
    """The checks of SPEC §3, check digits recomputed with python-stdnum."""
    body, check = document[:-1], document[-1]
    match country:
        case Country.ES if document[0] in "XYZ":
            assert nie.validate(document) == document
            assert dni.calc_check_digit(str("XYZ".index(document[0])) + document[1:-1]) == check
        case Country.ES:
            assert dni.validate(document) == document
            assert dni.calc_check_digit(body) == check
        case Country.PT:
            assert nif.validate(document) == document
            assert nif.calc_check_digit(body) == check
            assert document[0] in "123"  # an individual
        case Country.IT:
            assert codicefiscale.validate(document) == document
            assert codicefiscale.calc_check_digit(body) == check
        case Country.MX:
            assert curp.validate(document) == document
            assert curp.calc_check_digit(body) == check
            assert _age(curp.get_birth_date(document), date.today()) >= 18
        case Country.CO:
            assert document.isdigit()
            assert 6 <= len(document) <= 10
        case Country.BR:
            assert cpf.validate(document) == document
            assert len(set(document)) > 1


@pytest.mark.parametrize("identity", SANDBOX_IDENTITIES, ids=lambda i: f"{i.country}-{i.scenario}")
def test_each_sandbox_document_is_a_valid_document_of_its_country(identity):
    assert normalise_document(identity.document) == identity.document
    assert_valid_document(identity.country, identity.document)


def test_no_sandbox_document_is_a_spec_test_vector():
    assert not {identity.document for identity in SANDBOX_IDENTITIES} & SPEC_TEST_VECTORS


def test_every_country_has_each_scenario_once():
    pairs = [(identity.country, identity.scenario) for identity in SANDBOX_IDENTITIES]
    assert sorted(pairs) == sorted((country, scenario) for country in Country for scenario in Scenario)
    assert len({identity.document for identity in SANDBOX_IDENTITIES}) == len(SANDBOX_IDENTITIES)


def test_sandbox_identities_are_found_by_country_and_document():
    for identity in SANDBOX_IDENTITIES:
        assert find_sandbox_identity(identity.country, identity.document) is identity
    assert find_sandbox_identity(Country.PT, "70000001F") is None


# SPEC §6, as far as the sandbox needs it: the HARD and SOFT rules (bonuses never change a decision).
@dataclass(frozen=True)
class Figures:
    amount: Decimal
    income: Decimal
    term: int
    credit: CreditFile
    fallback: bool

    @property
    def score(self) -> int | None:
        return self.credit.credit_score

    @property
    def dti(self) -> Decimal:
        return self.credit.monthly_obligations / self.income * 100

    @property
    def pti(self) -> Decimal:
        return self.amount / self.term / self.income * 100

    @property
    def tdti(self) -> Decimal:
        return (self.credit.monthly_obligations + self.amount / self.term) / self.income * 100

    @property
    def tdti_12(self) -> Decimal:
        return (self.credit.monthly_obligations + self.amount / 12) / self.income * 100

    @property
    def lti(self) -> Decimal:
        return self.amount / (self.income * 12)


def _score_below(threshold):
    return lambda f: f.score is not None and f.score < threshold


RULES = {
    Country.ES: [
        ("ES_AMOUNT_REVIEW", "SOFT", lambda f: f.amount > 20_000),
        ("ES_DTI", "HARD", lambda f: f.dti >= 40),
        ("ES_SCORE", "HARD", _score_below(600)),
        ("ES_DEFAULTS", "HARD", lambda f: f.credit.has_defaults),
        ("ES_PTI", "SOFT", lambda f: f.pti > 35),
    ],
    Country.PT: [
        ("PT_LTI", "HARD", lambda f: f.lti > 4),
        ("PT_DTI", "HARD", lambda f: f.dti >= 40),
        ("PT_SCORE", "HARD", _score_below(600)),
        ("PT_DEFAULTS", "HARD", lambda f: f.credit.has_defaults),
        ("PT_PTI", "SOFT", lambda f: f.pti > 35),
    ],
    Country.IT: [
        ("IT_DTI", "HARD", lambda f: f.dti > 35),
        ("IT_SCORE", "HARD", _score_below(600)),
        ("IT_DEFAULTS", "HARD", lambda f: f.credit.has_defaults),
        ("IT_STABILITY", "SOFT", lambda f: f.amount > 2 * f.income * 12),
        ("IT_PTI", "SOFT", lambda f: f.pti > 30),
    ],
    Country.MX: [
        ("MX_LTI", "HARD", lambda f: f.lti > 3),
        ("MX_PTI", "HARD", lambda f: f.pti > 30),
        ("MX_SCORE", "HARD", _score_below(550)),
        ("MX_TDTI", "SOFT", lambda f: f.tdti > 45),
        ("MX_DEFAULTS", "SOFT", lambda f: f.credit.has_defaults),
    ],
    Country.CO: [
        ("CO_TDTI", "HARD", lambda f: f.tdti_12 > 40),
        ("CO_SCORE", "HARD", _score_below(600)),
        ("CO_DEFAULTS", "SOFT", lambda f: f.credit.has_defaults),
        ("CO_TOTAL_DEBT", "SOFT", lambda f: f.credit.total_debt > 6 * f.income),
    ],
    Country.BR: [
        ("BR_LTI", "HARD", lambda f: f.lti > 5),
        ("BR_TDTI", "HARD", lambda f: f.tdti_12 > 35),
        ("BR_SCORE", "HARD", _score_below(550)),
        ("BR_DEFAULTS", "HARD", lambda f: f.credit.has_defaults),
    ],
}
COMMON_RULES = [
    ("BUREAU_FALLBACK", "SOFT", lambda f: f.fallback),
    ("BUREAU_NO_SCORE", "SOFT", lambda f: f.score is None),
]
FALLBACK_FILE = CreditFile(None, Decimal("0.00"), Decimal("0.00"), False, 0)


def decide(country: Country, credit: CreditFile, *, fallback: bool) -> tuple[str, set[str]]:
    _, amount, income = TYPICAL[country.value]
    figures = Figures(Decimal(amount), Decimal(income), 36, credit, fallback)
    fired = {(code, effect) for code, effect, test in RULES[country] + COMMON_RULES if test(figures)}
    effects = {effect for _, effect in fired}
    decision = "REJECT" if "HARD" in effects else "REVIEW" if "SOFT" in effects else "APPROVE"
    return decision, {code for code, _ in fired}


@pytest.mark.parametrize("identity", SANDBOX_IDENTITIES, ids=lambda i: f"{i.country}-{i.scenario}")
def test_each_sandbox_report_leads_the_typical_application_to_the_documented_decision(identity):
    failing = identity.credit is None
    decision, fired = decide(identity.country, identity.credit or FALLBACK_FILE, fallback=failing)
    assert decision == identity.decision
    expected_rules = {
        Scenario.APPROVE: set(),
        Scenario.REVIEW: {"BUREAU_NO_SCORE"},
        Scenario.REJECT: {f"{identity.country}_SCORE"},
        Scenario.TIMEOUT: {"BUREAU_FALLBACK", "BUREAU_NO_SCORE"},
        Scenario.OUTAGE: {"BUREAU_FALLBACK", "BUREAU_NO_SCORE"},
    }[identity.scenario]
    assert fired == expected_rules  # one reason only: everything else about the applicant is clean


@pytest.mark.parametrize("identity", SANDBOX_IDENTITIES, ids=lambda i: f"{i.country}-{i.scenario}")
def test_sandbox_reports_are_clean_apart_from_the_scenarios_one_finding(identity):
    if identity.credit is None:
        assert identity.scenario in (Scenario.TIMEOUT, Scenario.OUTAGE)
        return
    assert not identity.credit.has_defaults
    assert identity.credit.account_age_months >= 36
    if identity.scenario is Scenario.APPROVE:
        assert identity.credit.credit_score is not None
        assert identity.credit.credit_score >= 750


def test_the_text_table_lists_every_identity():
    text = render_sandbox_table()
    for identity in SANDBOX_IDENTITIES:
        line = next(line for line in text.splitlines() if f" {identity.document} " in line)
        assert line.startswith(identity.country.value)
        assert identity.scenario.value in line
        assert identity.decision in line


def test_the_readme_holds_the_current_sandbox_table():
    assert render_sandbox_markdown() in README.read_text(encoding="utf-8")
