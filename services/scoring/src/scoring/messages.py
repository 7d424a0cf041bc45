"""How a reason is written: machine-readable values, and a sentence in English, Spanish, Portuguese, Italian.

Values in `observed`/`threshold` are plain decimal strings with a dot (`42.50`); values inside sentences
follow the reader's conventions (`42,50 %` in Spanish). Sentences describe what was observed, not what the
rule does with it, so that one wording serves every country whose rule is HARD and every country whose rule
is SOFT; a bonus adds that it lowers the risk score.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from enum import StrEnum

from scoring.facts import Country
from scoring.ratios import EXACT
from scoring.rules import Comparator, Effect, Measure, Rule, Unit

CENTS = Decimal("0.01")


class Language(StrEnum):
    """A language reasons are written in (ISO 639-1)."""

    EN = "en"
    ES = "es"
    PT = "pt"
    IT = "it"


@dataclass(frozen=True)
class LocalizedText:
    """The same sentence in each language."""

    en: str
    es: str
    pt: str
    it: str

    def __getitem__(self, language: Language) -> str:
        match language:
            case Language.EN:
                return self.en
            case Language.ES:
                return self.es
            case Language.PT:
                return self.pt
            case Language.IT:
                return self.it

    def items(self) -> Iterator[tuple[Language, str]]:
        """Each language with its sentence, English first."""
        return ((language, self[language]) for language in Language)

    def as_dict(self) -> dict[str, str]:
        """Keyed by language code, as the proto's `localized_messages` map."""
        return {language.value: text for language, text in self.items()}


def quantize_cents(value: Decimal) -> Decimal:
    """Round half to even to two places: for presenting a value, never for comparing it."""
    with localcontext(EXACT):
        return value.quantize(CENTS, rounding=ROUND_HALF_EVEN)


def machine_text(value: Decimal | bool, unit: Unit) -> str:
    """A value as `observed`/`threshold` carry it: `42.50`, `20000.00`, `600`, or `true`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if unit is Unit.COUNT:
        return f"{value:f}" if value == value.to_integral_value() else f"{quantize_cents(value):f}"
    return f"{quantize_cents(value):f}"


@dataclass(frozen=True)
class _Conventions:
    decimal_point: str
    group_separator: str
    percent: str  # where the number goes in a percentage


# Spanish puts a space before % (RAE); Mexico writes decimals with a point, Spain and Colombia with a comma.
_ENGLISH = _Conventions(".", ",", "{}%")
_SPANISH = _Conventions(",", ".", "{} %")
_MEXICAN_SPANISH = _Conventions(".", ",", "{} %")
_PORTUGUESE = _Conventions(",", ".", "{}%")
_ITALIAN = _Conventions(",", ".", "{}%")


def _conventions(language: Language, country: Country) -> _Conventions:
    match language:
        case Language.EN:
            return _ENGLISH
        case Language.ES:
            return _MEXICAN_SPANISH if country is Country.MX else _SPANISH
        case Language.PT:
            return _PORTUGUESE
        case Language.IT:
            return _ITALIAN


def format_number(value: Decimal, language: Language, country: Country, *, places: int | None = 2) -> str:
    """A number as a reader of `language` in `country` writes it: `1,234.50` (en), `1.234,50` (es in ES).

    `places=None` writes the number as it is, without trailing zeros (`2`, `2.5`).
    """
    with localcontext(EXACT):
        if places is None:
            value = value.normalize()
            text = f"{value:f}"
        else:
            text = f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN):f}"
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, fraction = text.partition(".")
    conventions = _conventions(language, country)
    groups: list[str] = []
    while len(whole) > 3:
        whole, group = whole[:-3], whole[-3:]
        groups.insert(0, group)
    grouped = conventions.group_separator.join([whole, *groups])
    return sign + grouped + (conventions.decimal_point + fraction if fraction else "")


def format_value(value: Decimal, unit: Unit, language: Language, country: Country) -> str:
    """A value inside a sentence: `42,50 %`, `25.000,00 EUR`, `4,17`, `600`."""
    match unit:
        case Unit.MONEY:
            return f"{format_number(value, language, country)} {country.currency}"
        case Unit.PERCENT:
            return _conventions(language, country).percent.format(format_number(value, language, country))
        case Unit.RATIO:
            return format_number(value, language, country)
        case Unit.COUNT:
            return format_number(value, language, country, places=None)
        case Unit.FLAG:
            raise ValueError("a flag is not written inside a sentence")


# One sentence per measure and comparator in use. `{observed}` and `{threshold}` are the rule's values
# as the reader writes them; `{factor}` is the income multiple of AMOUNT_VS_ANNUAL_INCOME and
# DEBT_VS_MONTHLY_INCOME, whose `{threshold}` is then the resulting amount.
_ABOVE = LocalizedText(
    en="above the {threshold} limit",
    es="por encima del límite del {threshold}",
    pt="acima do limite de {threshold}",
    it="oltre il limite del {threshold}",
)
_AT_OR_ABOVE = LocalizedText(
    en="at or above the {threshold} limit",
    es="igual o superior al límite del {threshold}",
    pt="igual ou superior ao limite de {threshold}",
    it="pari o superiore al limite del {threshold}",
)
_DEBT_REPAYMENTS = LocalizedText(
    en="Monthly debt repayments are {observed} of income, ",
    es="Las cuotas mensuales de deudas suponen el {observed} de los ingresos, ",
    pt="As prestações mensais de dívidas representam {observed} do rendimento, ",
    it="Le rate mensili dei debiti sono il {observed} del reddito, ",
)
_LOAN_REPAYMENT = LocalizedText(
    en="The repayment of this loan would be {observed} of monthly income, ",
    es="La cuota de este préstamo supondría el {observed} de los ingresos mensuales, ",
    pt="A prestação deste empréstimo representaria {observed} do rendimento mensal, ",
    it="La rata di questo prestito sarebbe il {observed} del reddito mensile, ",
)


def _join(first: LocalizedText, second: LocalizedText) -> LocalizedText:
    return LocalizedText(
        en=first.en + second.en, es=first.es + second.es, pt=first.pt + second.pt, it=first.it + second.it
    )


_TEMPLATES: dict[tuple[Measure, Comparator], LocalizedText] = {
    (Measure.AMOUNT, Comparator.GT): LocalizedText(
        en="The requested amount of {observed} is above {threshold}",
        es="El importe solicitado, {observed}, supera los {threshold}",
        pt="O valor solicitado, {observed}, ultrapassa {threshold}",
        it="L'importo richiesto, {observed}, supera {threshold}",
    ),
    (Measure.AMOUNT_VS_ANNUAL_INCOME, Comparator.GT): LocalizedText(
        en="The requested amount of {observed} is more than {factor} times the annual income ({threshold})",
        es="El importe solicitado, {observed}, supera {factor} veces los ingresos anuales ({threshold})",
        pt="O valor solicitado, {observed}, ultrapassa {factor} vezes o rendimento anual ({threshold})",
        it="L'importo richiesto, {observed}, è superiore a {factor} volte il reddito annuo ({threshold})",
    ),
    (Measure.PTI, Comparator.GT): _join(_LOAN_REPAYMENT, _ABOVE),
    (Measure.PTI, Comparator.LE): _join(
        _LOAN_REPAYMENT,
        LocalizedText(
            en="at or below {threshold}",
            es="igual o inferior al {threshold}",
            pt="igual ou inferior a {threshold}",
            it="pari o inferiore al {threshold}",
        ),
    ),
    (Measure.LTI, Comparator.GT): LocalizedText(
        en="The requested amount is {observed} times the annual income, above the limit of {threshold}",
        es="El importe solicitado equivale a {observed} veces los ingresos anuales, por encima del límite "
        "de {threshold}",
        pt="O valor solicitado equivale a {observed} vezes o rendimento anual, acima do limite de "
        "{threshold}",
        it="L'importo richiesto è pari a {observed} volte il reddito annuo, oltre il limite di {threshold}",
    ),
    (Measure.DTI, Comparator.GE): _join(_DEBT_REPAYMENTS, _AT_OR_ABOVE),
    (Measure.DTI, Comparator.GT): _join(_DEBT_REPAYMENTS, _ABOVE),
    (Measure.TDTI, Comparator.GT): _join(
        LocalizedText(
            en="Monthly debt repayments including this loan would be {observed} of income, ",
            es="Las cuotas mensuales de deudas, incluido este préstamo, supondrían el {observed} de los "
            "ingresos, ",
            pt="As prestações mensais de dívidas, incluindo este empréstimo, representariam {observed} do "
            "rendimento, ",
            it="Le rate mensili dei debiti, compreso questo prestito, sarebbero il {observed} del reddito, ",
        ),
        _ABOVE,
    ),
    (Measure.TDTI_12, Comparator.GT): _join(
        LocalizedText(
            en="Monthly debt repayments plus the requested amount spread over 12 months would be {observed} "
            "of income, ",
            es="Las cuotas mensuales de deudas más el importe solicitado repartido en 12 meses supondrían el "
            "{observed} de los ingresos, ",
            pt="As prestações mensais de dívidas mais o valor solicitado repartido por 12 meses "
            "representariam {observed} do rendimento, ",
            it="Le rate mensili dei debiti più l'importo richiesto ripartito su 12 mesi sarebbero il "
            "{observed} del reddito, ",
        ),
        _ABOVE,
    ),
    (Measure.DEBT_VS_MONTHLY_INCOME, Comparator.GT): LocalizedText(
        en="Total debt of {observed} is more than {factor} times the monthly income ({threshold})",
        es="La deuda total, {observed}, supera {factor} veces los ingresos mensuales ({threshold})",
        pt="A dívida total, {observed}, ultrapassa {factor} vezes o rendimento mensal ({threshold})",
        it="Il debito totale, {observed}, è superiore a {factor} volte il reddito mensile ({threshold})",
    ),
    (Measure.SCORE, Comparator.LT): LocalizedText(
        en="The credit score of {observed} is below the minimum of {threshold}",
        es="La puntuación de crédito, {observed}, está por debajo del mínimo de {threshold}",
        pt="A pontuação de crédito, {observed}, está abaixo do mínimo de {threshold}",
        it="Il punteggio di credito, {observed}, è inferiore al minimo di {threshold}",
    ),
    (Measure.SCORE, Comparator.GE): LocalizedText(
        en="The credit score of {observed} is at or above {threshold}",
        es="La puntuación de crédito, {observed}, es igual o superior a {threshold}",
        pt="A pontuação de crédito, {observed}, é igual ou superior a {threshold}",
        it="Il punteggio di credito, {observed}, è pari o superiore a {threshold}",
    ),
    (Measure.ACCOUNT_AGE, Comparator.GE): LocalizedText(
        en="The oldest credit account was opened {observed} months ago, at least {threshold} months",
        es="La cuenta de crédito más antigua se abrió hace {observed} meses, al menos {threshold}",
        pt="A conta de crédito mais antiga foi aberta há {observed} meses, pelo menos {threshold}",
        it="Il rapporto di credito più vecchio è aperto da {observed} mesi, almeno {threshold}",
    ),
    (Measure.DEFAULTS, Comparator.IS): LocalizedText(
        en="The credit report shows an active default",
        es="El informe de crédito registra un impago activo",
        pt="O relatório de crédito indica um incumprimento ativo",
        it="La centrale rischi segnala un'insolvenza in corso",
    ),
    (Measure.BUREAU_FALLBACK, Comparator.IS): LocalizedText(
        en="The credit bureau could not be reached, so no credit report was available",
        es="No se pudo consultar el buró de crédito, así que no hay informe de crédito",
        pt="Não foi possível consultar o bureau de crédito, pelo que não há relatório de crédito",
        it="Non è stato possibile consultare la centrale rischi, quindi non è disponibile alcuna "
        "informazione creditizia",
    ),
    (Measure.BUREAU_NO_SCORE, Comparator.IS): LocalizedText(
        en="The credit bureau returned no credit score for the applicant",
        es="El buró de crédito no devolvió ninguna puntuación de crédito para el solicitante",
        pt="O bureau de crédito não devolveu nenhuma pontuação de crédito para o requerente",
        it="La centrale rischi non ha restituito alcun punteggio di credito per il richiedente",
    ),
}

_LOWERS_THE_SCORE = LocalizedText(
    en=", which lowers the risk score",
    es=", lo que reduce la puntuación de riesgo",
    pt=", o que reduz a pontuação de risco",
    it=", il che riduce il punteggio di rischio",
)


def has_wording(rule: Rule) -> bool:
    """Whether reasons of this rule can be written: its measure and comparator have a sentence."""
    return (rule.measure, rule.comparator) in _TEMPLATES


def reason_text(
    rule: Rule, observed: Decimal | bool, limit: Decimal | bool, country: Country
) -> LocalizedText:
    """The sentence of a fired rule in every language.

    `limit` is what `observed` was compared with: the rule's threshold, or for an income multiple the
    amount it comes to.
    """
    template = _TEMPLATES[(rule.measure, rule.comparator)]
    unit = rule.measure.unit

    def write(language: Language) -> str:
        values: dict[str, str] = {}
        if isinstance(observed, Decimal) and isinstance(limit, Decimal):
            values["observed"] = format_value(observed, unit, language, country)
            values["threshold"] = format_value(limit, unit, language, country)
        if isinstance(rule.threshold, Decimal):
            values["factor"] = format_number(rule.threshold, language, country, places=None)
        text = template[language].format(**values)
        if rule.effect is Effect.BONUS:
            text += _LOWERS_THE_SCORE[language]
        return text + "."

    return LocalizedText(
        en=write(Language.EN), es=write(Language.ES), pt=write(Language.PT), it=write(Language.IT)
    )
