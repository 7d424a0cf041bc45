"""Reasons in words: a sentence in en, es, pt and it for every rule, showing the observed value in the
reader's conventions, while `observed`/`threshold` stay machine-readable."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from scoring_cases import D, decide_with

from scoring.engine import Reason, limit_of
from scoring.facts import ApplicationFacts, Country
from scoring.messages import Language, LocalizedText, format_number, format_value, machine_text, reason_text
from scoring.rules import BONUS, Comparator, Rule, Unit
from scoring.rulesets import published

EVERY_RULE = [
    pytest.param(rule_set.country, rule, id=f"{rule_set.version}:{rule.code}")
    for country in Country
    for rule_set in published(country)
    for rule in rule_set.rules
]

# Machine strings: a plain decimal with a dot, an integer, or true.
MACHINE = r"(true|-?[0-9]+(\.[0-9]{2})?)"


def _firing_value(rule: Rule, limit: Decimal | bool) -> Decimal | bool:
    # A value past the limit in the rule's direction, with cents, so that rounding shows in the text.
    if isinstance(limit, bool):
        return limit
    nudge = {
        Comparator.GT: D("1.23"),
        Comparator.GE: D("0"),
        Comparator.LT: D("-1"),
        Comparator.LE: D("-1.23"),
    }
    value = limit + nudge[rule.comparator]
    return value.to_integral_value() if rule.measure.unit is Unit.COUNT else value


def _application(country: Country) -> ApplicationFacts:
    return ApplicationFacts(country=country, requested_amount=D("1000.00"), monthly_income=D("2500.00"))


def _shown(value: Decimal, unit: Unit, language: Language, country: Country) -> str:
    return format_value(value, unit, language, country)


@pytest.mark.parametrize(("country", "rule"), EVERY_RULE)
def test_every_rule_has_a_sentence_in_four_languages_showing_its_values(country: Country, rule: Rule) -> None:
    limit = limit_of(rule, _application(country))
    observed = _firing_value(rule, limit)

    text = reason_text(rule, observed, limit, country)

    for language, sentence in text.items():
        assert sentence.endswith("."), (language, sentence)
        assert sentence[0].isupper(), (language, sentence)
        assert "{" not in sentence, (language, sentence)
        if isinstance(observed, Decimal) and isinstance(limit, Decimal):
            assert _shown(observed, rule.measure.unit, language, country) in sentence, (language, sentence)
            assert _shown(limit, rule.measure.unit, language, country) in sentence, (language, sentence)
    assert len({sentence for _, sentence in text.items()}) == 4


EVERY_BONUS = [
    pytest.param(rule_set.country, rule, id=f"{rule_set.version}:{rule.code}")
    for country in Country
    for rule_set in published(country)
    for rule in rule_set.rules
    if rule.effect is BONUS
]


@pytest.mark.parametrize(("country", "rule"), EVERY_BONUS)
def test_a_bonus_says_it_lowers_the_risk_score(country: Country, rule: Rule) -> None:
    limit = limit_of(rule, _application(country))

    text = reason_text(rule, _firing_value(rule, limit), limit, country)

    assert text.en.endswith(", which lowers the risk score.")
    assert text.es.endswith(", lo que reduce la puntuación de riesgo.")
    assert text.pt.endswith(", o que reduz a pontuação de risco.")
    assert text.it.endswith(", il che riduce il punteggio di rischio.")


def test_the_dti_reason_reads_naturally_in_each_language() -> None:
    decision = decide_with(Country.ES, monthly_obligations=D("1275.00"))

    (reason,) = decision.reasons
    assert (reason.observed, reason.threshold) == ("42.50", "40.00")
    assert reason.messages == LocalizedText(
        en="Monthly debt repayments are 42.50% of income, at or above the 40.00% limit.",
        es="Las cuotas mensuales de deudas suponen el 42,50 % de los ingresos, igual o superior al límite "
        "del 40,00 %.",
        pt="As prestações mensais de dívidas representam 42,50% do rendimento, igual ou superior ao limite "
        "de 40,00%.",
        it="Le rate mensili dei debiti sono il 42,50% del reddito, pari o superiore al limite del 40,00%.",
    )
    assert reason.message == reason.messages.en


def test_an_income_multiple_shows_the_amount_against_the_amount_the_multiple_comes_to() -> None:
    decision = decide_with(Country.IT, requested_amount=D("48000.01"), term_months=120)

    (reason,) = decision.reasons
    assert (reason.observed, reason.threshold) == ("48000.01", "48000.00")
    assert reason.message == (
        "The requested amount of 48,000.01 EUR is more than 2 times the annual income (48,000.00 EUR)."
    )
    assert reason.messages.it == (
        "L'importo richiesto, 48.000,01 EUR, è superiore a 2 volte il reddito annuo (48.000,00 EUR)."
    )


def test_mexican_spanish_writes_decimals_with_a_point() -> None:
    decision = decide_with(Country.MX, monthly_obligations=D("3000.00"))

    (reason,) = decision.reasons
    assert reason.messages.es.startswith(
        "Las cuotas mensuales de deudas, incluido este préstamo, supondrían el 50.00 %"
    )


@pytest.mark.parametrize("country", list(Country))
def test_every_reason_of_a_bad_application_shows_its_observed_value(country: Country) -> None:
    decision = decide_with(
        country,
        requested_amount=D("999999.99") if country is not Country.CO else D("99999999.99"),
        monthly_obligations=D("0.00"),
        total_debt=D("999999999.00"),
        credit_score=100,
        has_defaults=True,
    )

    assert len(decision.reasons) >= 3
    for reason in decision.reasons:
        _assert_shows_observed(reason, country)


def _assert_shows_observed(reason: Reason, country: Country) -> None:
    unit = published(country)[-1].rule(reason.code).measure.unit
    for language, sentence in reason.messages.items():
        if unit is not Unit.FLAG:
            assert _shown(Decimal(reason.observed), unit, language, country) in sentence, sentence


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (D("42.5"), Unit.PERCENT, "42.50"),
        (D("39.995"), Unit.PERCENT, "40.00"),  # half to even, for showing only
        (D("2.665"), Unit.RATIO, "2.66"),
        (D("2.675"), Unit.MONEY, "2.68"),
        (D("20000"), Unit.MONEY, "20000.00"),
        (D("600"), Unit.COUNT, "600"),
        (True, Unit.FLAG, "true"),
    ],
)
def test_machine_values_are_plain_decimal_strings(value: Decimal | bool, unit: Unit, text: str) -> None:
    assert machine_text(value, unit) == text


@pytest.mark.parametrize(
    ("language", "country", "text"),
    [
        (Language.EN, Country.ES, "1,234,567.88"),
        (Language.ES, Country.ES, "1.234.567,88"),
        (Language.ES, Country.CO, "1.234.567,88"),
        (Language.ES, Country.MX, "1,234,567.88"),
        (Language.PT, Country.BR, "1.234.567,88"),
        (Language.IT, Country.IT, "1.234.567,88"),
    ],
)
def test_numbers_follow_the_readers_conventions(language: Language, country: Country, text: str) -> None:
    # Half to even: .885 is written .88.
    assert format_number(D("1234567.885"), language, country) == text


@pytest.mark.parametrize(
    ("language", "text"),
    [(Language.EN, "42.50%"), (Language.ES, "42,50 %"), (Language.PT, "42,50%"), (Language.IT, "42,50%")],
)
def test_percentages_follow_the_readers_conventions(language: Language, text: str) -> None:
    assert format_value(D("42.5"), Unit.PERCENT, language, Country.PT) == text


def test_money_in_a_sentence_carries_the_countrys_currency() -> None:
    assert format_value(D("25000"), Unit.MONEY, Language.PT, Country.BR) == "25.000,00 BRL"


def test_a_plain_number_drops_trailing_zeros() -> None:
    assert format_number(D("2.50"), Language.IT, Country.IT, places=None) == "2,5"
    assert format_number(D("600"), Language.EN, Country.ES, places=None) == "600"


def test_localized_text_maps_language_codes_to_sentences() -> None:
    text = LocalizedText(en="a", es="b", pt="c", it="d")

    assert text.as_dict() == {"en": "a", "es": "b", "pt": "c", "it": "d"}
    assert text[Language.PT] == "c"


def test_a_flag_is_never_written_inside_a_sentence() -> None:
    with pytest.raises(ValueError, match="flag"):
        format_value(D("1"), Unit.FLAG, Language.EN, Country.ES)


@pytest.mark.parametrize(("country", "rule"), EVERY_RULE)
def test_machine_strings_of_every_rule_are_plain(country: Country, rule: Rule) -> None:
    limit = limit_of(rule, _application(country))
    assert re.fullmatch(MACHINE, machine_text(limit, rule.measure.unit))
