"""The published rule sets: exactly SPEC §6's table, versioned, and addressable by version and by date."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import date
from decimal import Decimal

import pytest
from scoring_cases import D, facts

import scoring.rulesets
from scoring.engine import decide
from scoring.facts import Country
from scoring.rules import BONUS, GE, GT, HARD, IS, LT, SOFT, Measure, Rule, RuleSet
from scoring.rulesets import RuleSetNotFound, _checked, published, rule_set

# SPEC §6's table as written there, minus signs and multiplication signs included, in table order.
SPEC_TABLE = """
| ES | ES_AMOUNT_REVIEW | amount > 20,000 | 15 | SOFT |
| ES | ES_DTI | DTI ≥ 40 | 30 | HARD |
| ES | ES_SCORE | score < 600 | 25 | HARD |
| ES | ES_DEFAULTS | defaults | 40 | HARD |
| ES | ES_PTI | PTI > 35 | 20 | SOFT |
| ES | ES_SCORE_BONUS | score ≥ 750 | −10 | bonus |
| PT | PT_LTI | LTI > 4 | 25 | HARD |
| PT | PT_DTI | DTI ≥ 40 | 30 | HARD |
| PT | PT_SCORE | score < 600 | 25 | HARD |
| PT | PT_DEFAULTS | defaults | 35 | HARD |
| PT | PT_PTI | PTI > 35 | 20 | SOFT |
| PT | PT_SCORE_BONUS | score ≥ 750 | −10 | bonus |
| IT | IT_DTI | DTI > 35 | 30 | HARD |
| IT | IT_SCORE | score < 600 | 25 | HARD |
| IT | IT_DEFAULTS | defaults | 35 | HARD |
| IT | IT_STABILITY | amount > 2 × income × 12 | 15 | SOFT |
| IT | IT_PTI | PTI > 30 | 20 | SOFT |
| IT | IT_SCORE_BONUS | score ≥ 750 | −10 | bonus |
| MX | MX_LTI | LTI > 3 | 35 | HARD |
| MX | MX_PTI | PTI > 30 | 25 | HARD |
| MX | MX_SCORE | score < 550 | 30 | HARD |
| MX | MX_TDTI | TDTI > 45 | 30 | SOFT |
| MX | MX_DEFAULTS | defaults | 35 | SOFT |
| MX | MX_PTI_BONUS | PTI ≤ 15 | −5 | bonus |
| MX | MX_SCORE_BONUS | score ≥ 700 | −10 | bonus |
| CO | CO_TDTI | obligations + amount / 12, over income, × 100 > 40 | 25 | HARD |
| CO | CO_SCORE | score < 600 | 30 | HARD |
| CO | CO_DEFAULTS | defaults | 35 | SOFT (Colombian law: no rejection on a negative bureau report alone) |
| CO | CO_TOTAL_DEBT | debt > 6 × income | 15 | SOFT |
| CO | CO_SCORE_BONUS | score ≥ 750 | −15 | bonus |
| CO | CO_TENURE_BONUS | account_age ≥ 36 | −10 | bonus |
| BR | BR_LTI | LTI > 5 | 25 | HARD |
| BR | BR_TDTI | obligations + amount / 12, over income, × 100 > 35 | 20 | HARD |
| BR | BR_SCORE | score < 550 | 25 | HARD |
| BR | BR_DEFAULTS | defaults | 30 | HARD |
| BR | BR_SCORE_BONUS | score ≥ 700 | −10 | bonus |
| BR | BR_TENURE_BONUS | account_age ≥ 24 | −5 | bonus |
| all | BUREAU_FALLBACK | the report is a fallback (bureau unavailable) | 0 | SOFT — never decide automatically on made-up data |
| all | BUREAU_NO_SCORE | the bureau returned no score | 10 | SOFT |
"""  # noqa: RUF001, E501


def _spec_rows(country: Country) -> list[tuple[str, str, int, str]]:
    rows = []
    for line in SPEC_TABLE.strip().splitlines():
        owner, code, condition, points, effect = (cell.strip() for cell in line.strip("|").split("|"))
        if owner in (country.value, "all"):
            rows.append(
                (code, condition, int(points.replace("\N{MINUS SIGN}", "-")), effect.split()[0].upper())
            )
    return rows


@pytest.mark.parametrize("country", list(Country))
def test_the_current_rule_set_is_spec_sections_6_table_in_table_order(country: Country) -> None:
    rules = rule_set(country).rules

    actual = [(rule.code, rule.description, rule.points, rule.effect.value) for rule in rules]
    assert actual == _spec_rows(country)


@pytest.mark.parametrize("country", list(Country))
def test_each_country_publishes_one_version_today_effective_from_2026(country: Country) -> None:
    (only,) = published(country)

    assert only.version == f"{country.value}-2026.1"
    assert only.effective_from == date(2026, 1, 1)
    assert only.country is country


@pytest.mark.parametrize("country", list(Country))
def test_without_a_version_the_set_in_effect_today_is_returned(country: Country) -> None:
    assert rule_set(country) is published(country)[-1]


def test_a_named_version_is_returned_as_published() -> None:
    assert rule_set(Country.ES, "ES-2026.1") is published(Country.ES)[0]


@pytest.mark.parametrize(
    ("country", "version"),
    [(Country.ES, "ES-2027.1"), (Country.ES, "PT-2026.1"), (Country.MX, ""), (Country.BR, "br-2026.1")],
)
def test_an_unknown_version_is_not_found(country: Country, version: str) -> None:
    with pytest.raises(RuleSetNotFound) as raised:
        rule_set(country, version)

    assert (raised.value.country, raised.value.version) == (country, version)
    assert isinstance(raised.value, LookupError)


def test_before_the_first_version_takes_effect_no_rule_set_is_in_effect() -> None:
    with pytest.raises(RuleSetNotFound):
        rule_set(Country.ES, on=date(2025, 12, 31))


def test_a_published_rule_set_cannot_be_changed_in_place() -> None:
    with pytest.raises(FrozenInstanceError):
        rule_set(Country.ES).rules[1].points = 10  # type: ignore[misc]


# A hypothetical next version: ES_DTI at 35 instead of 40.
ES_2027_1 = RuleSet(
    country=Country.ES,
    version="ES-2027.1",
    effective_from=date(2027, 1, 1),
    rules=tuple(
        replace(rule, threshold=D("35")) if rule.code == "ES_DTI" else rule
        for rule in rule_set(Country.ES, "ES-2026.1").rules
    ),
)


@pytest.fixture
def with_es_2027(monkeypatch: pytest.MonkeyPatch) -> None:
    versions = (*published(Country.ES), ES_2027_1)
    # The registry is read-only: replace it for the test rather than edit it.
    patched = {
        **{country: published(country) for country in Country},
        Country.ES: _checked(Country.ES, versions),
    }
    monkeypatch.setattr(scoring.rulesets, "_PUBLISHED", patched)


@pytest.mark.usefixtures("with_es_2027")
def test_a_new_version_takes_over_on_its_effective_date() -> None:
    assert rule_set(Country.ES, on=date(2026, 12, 31)).version == "ES-2026.1"
    assert rule_set(Country.ES, on=date(2027, 1, 1)).version == "ES-2027.1"


@pytest.mark.usefixtures("with_es_2027")
def test_a_decision_made_under_a_past_version_replays_exactly_after_a_new_one() -> None:
    # DTI 37.5 %: fine under ES-2026.1, rejected under ES-2027.1.
    application, bureau = facts(Country.ES, monthly_obligations=D("1125.00"))
    before = decide(application, bureau, rule_set=rule_set(Country.ES, on=date(2026, 6, 1)))
    after = decide(application, bureau, rule_set=rule_set(Country.ES, on=date(2027, 6, 1)))

    replayed = decide(application, bureau, rule_set=rule_set(Country.ES, before.rule_set_version))

    assert replayed == before
    assert (before.outcome, after.outcome) == ("APPROVE", "REJECT")


def test_the_registry_refuses_a_set_filed_under_another_country() -> None:
    with pytest.raises(ValueError, match="filed under"):
        _checked(Country.PT, published(Country.ES))


def test_the_registry_refuses_a_version_published_twice() -> None:
    with pytest.raises(ValueError, match="twice"):
        _checked(Country.ES, (ES_2027_1, replace(ES_2027_1, effective_from=date(2028, 1, 1))))


def test_the_registry_refuses_versions_out_of_date_order() -> None:
    with pytest.raises(ValueError, match="one after another"):
        _checked(Country.ES, (ES_2027_1, *published(Country.ES)))


def test_the_registry_refuses_a_rule_its_reasons_cannot_be_written_for() -> None:
    unwritten = Rule("ES_SCORE_CAP", Measure.SCORE, GT, D("900"), 5, SOFT)
    odd = replace(ES_2027_1, rules=(*ES_2027_1.rules, unwritten))

    with pytest.raises(ValueError, match="no sentence"):
        _checked(Country.ES, (*published(Country.ES), odd))


@pytest.mark.parametrize(
    ("code", "measure", "comparator", "threshold", "points", "effect", "problem"),
    [
        ("es_dti", Measure.DTI, GE, D("40"), 30, HARD, ValueError),
        ("ES_DTI", Measure.DTI, IS, True, 30, HARD, ValueError),
        ("ES_DEFAULTS", Measure.DEFAULTS, GT, D("0"), 40, HARD, ValueError),
        ("ES_DEFAULTS", Measure.DEFAULTS, IS, False, 40, HARD, ValueError),
        ("ES_DTI", Measure.DTI, GE, 40.0, 30, HARD, TypeError),
        ("ES_DTI", Measure.DTI, GE, Decimal("NaN"), 30, HARD, TypeError),
        ("ES_SCORE", Measure.SCORE, LT, D("600.5"), 25, HARD, ValueError),
        ("ES_SCORE_BONUS", Measure.SCORE, GE, D("750"), 10, BONUS, ValueError),
        ("ES_SCORE", Measure.SCORE, LT, D("600"), -25, HARD, ValueError),
        ("ES_PTI", Measure.PTI, GT, D("35"), -20, SOFT, ValueError),
        ("ES_PTI", Measure.PTI, GT, D("35"), True, SOFT, TypeError),
    ],
)
def test_a_malformed_rule_is_refused(
    code: str,
    measure: Measure,
    comparator: object,
    threshold: object,
    points: object,
    effect: object,
    problem: type[Exception],
) -> None:
    with pytest.raises(problem):
        Rule(code, measure, comparator, threshold, points, effect)  # type: ignore[arg-type]


@pytest.mark.parametrize("version", ["ES-2026", "PT-2026.1", "ES-26.1", "ES-2026.0", "es-2026.1"])
def test_a_malformed_version_is_refused(version: str) -> None:
    with pytest.raises(ValueError, match="not of the form"):
        replace(ES_2027_1, version=version)


def test_a_set_repeating_a_code_is_refused() -> None:
    with pytest.raises(ValueError, match="repeats"):
        replace(ES_2027_1, rules=(*ES_2027_1.rules, ES_2027_1.rules[0]))


def test_an_empty_set_is_refused() -> None:
    with pytest.raises(ValueError, match="no rules"):
        replace(ES_2027_1, rules=())


def test_a_rule_is_found_by_its_code() -> None:
    assert rule_set(Country.IT).rule("IT_STABILITY").threshold == D("2")
    with pytest.raises(KeyError):
        rule_set(Country.IT).rule("ES_DTI")


@pytest.mark.parametrize(
    ("country", "code", "text"),
    [
        (Country.ES, "ES_AMOUNT_REVIEW", "20000"),
        (Country.ES, "ES_DTI", "40"),
        (Country.IT, "IT_STABILITY", "2"),
        (Country.CO, "CO_TOTAL_DEBT", "6"),
        (Country.ES, "ES_DEFAULTS", ""),
        (Country.ES, "BUREAU_FALLBACK", ""),
    ],
)
def test_a_rules_threshold_is_written_as_a_plain_decimal_and_empty_for_a_flag(
    country: Country, code: str, text: str
) -> None:
    assert rule_set(country).rule(code).threshold_text == text


@pytest.mark.parametrize(("measure", "needs_bureau"), [(Measure.PTI, False), (Measure.DTI, True)])
def test_a_measure_knows_whether_it_needs_the_bureau(measure: Measure, needs_bureau: bool) -> None:
    assert measure.needs_bureau is needs_bureau
