"""The vocabulary of a rule set: what a rule measures, how it compares, its points and its effect.

A rule is data — `Rule("ES_DTI", Measure.DTI, GE, Decimal("40"), 30, HARD)` reads "DTI ≥ 40 adds 30
points and rejects" — so that a country's rules read as a table (see `scoring.rulesets`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from scoring.facts import Country


class Effect(StrEnum):
    """What a rule does when it fires."""

    HARD = "HARD"  # the application is rejected
    SOFT = "SOFT"  # a person reviews the application
    BONUS = "BONUS"  # points are taken away; the outcome is unchanged


class Comparator(StrEnum):
    """How an observed value is compared with a rule's threshold; the value is the symbol SPEC §6 uses."""

    GT = ">"
    GE = "≥"
    LT = "<"
    LE = "≤"
    IS = "is"  # for a flag: the observed flag equals the threshold (always `True` today)

    def holds(self, observed: Decimal | bool, threshold: Decimal | bool) -> bool:
        """Whether `observed <comparator> threshold`, on the unrounded values."""
        if self is Comparator.IS:
            if not isinstance(observed, bool) or not isinstance(threshold, bool):
                raise TypeError("IS compares flags")
            return observed is threshold
        if not isinstance(observed, Decimal) or not isinstance(threshold, Decimal):
            raise TypeError(f"{self.value} compares decimals")
        match self:
            case Comparator.GT:
                return observed > threshold
            case Comparator.GE:
                return observed >= threshold
            case Comparator.LT:
                return observed < threshold
            case Comparator.LE:
                return observed <= threshold


# Short names so that the rule tables read like SPEC §6.
GT, GE, LT, LE, IS = Comparator.GT, Comparator.GE, Comparator.LT, Comparator.LE, Comparator.IS
HARD, SOFT, BONUS = Effect.HARD, Effect.SOFT, Effect.BONUS


class Unit(StrEnum):
    """How a measure's values are written."""

    MONEY = "money"  # in the country's currency; two decimals
    PERCENT = "percent"  # two decimals
    RATIO = "ratio"  # a multiple; two decimals
    COUNT = "count"  # a whole number (a score, months)
    FLAG = "flag"  # `true`


class Measure(StrEnum):
    """What a rule looks at; each member's comment says what it is and which inputs it needs."""

    AMOUNT = "amount"  # the requested amount — application
    # The amount against `threshold * income * 12` (IT_STABILITY) — application
    AMOUNT_VS_ANNUAL_INCOME = "amount_vs_annual_income"
    PTI = "pti"  # (amount / term) / income * 100 — application
    LTI = "lti"  # amount / (income * 12) — application
    DTI = "dti"  # obligations / income * 100 — bureau obligations
    TDTI = "tdti"  # (obligations + amount / term) / income * 100 — bureau obligations
    # (obligations + amount / 12) / income * 100, whatever the term (CO_TDTI, BR_TDTI) — bureau obligations
    TDTI_12 = "tdti_12"
    # Total debt against `threshold * income` (CO_TOTAL_DEBT) — bureau debt
    DEBT_VS_MONTHLY_INCOME = "debt_vs_monthly_income"
    SCORE = "score"  # the bureau's credit score — bureau score
    DEFAULTS = "defaults"  # the applicant has an active default — bureau defaults
    ACCOUNT_AGE = "account_age"  # months since the oldest credit account opened — bureau account age
    BUREAU_FALLBACK = "bureau_fallback"  # the report is a fallback — always known
    BUREAU_NO_SCORE = "bureau_no_score"  # a real report without a score — bureau

    @property
    def unit(self) -> Unit:
        """How the observed value and the threshold of a reason are written."""
        return _UNITS[self]

    @property
    def needs_bureau(self) -> bool:
        """Whether the measure is absent on a fallback report (everything but the application's figures)."""
        return self not in _APPLICATION_ONLY


_UNITS = {
    Measure.AMOUNT: Unit.MONEY,
    Measure.AMOUNT_VS_ANNUAL_INCOME: Unit.MONEY,
    Measure.PTI: Unit.PERCENT,
    Measure.LTI: Unit.RATIO,
    Measure.DTI: Unit.PERCENT,
    Measure.TDTI: Unit.PERCENT,
    Measure.TDTI_12: Unit.PERCENT,
    Measure.DEBT_VS_MONTHLY_INCOME: Unit.MONEY,
    Measure.SCORE: Unit.COUNT,
    Measure.DEFAULTS: Unit.FLAG,
    Measure.ACCOUNT_AGE: Unit.COUNT,
    Measure.BUREAU_FALLBACK: Unit.FLAG,
    Measure.BUREAU_NO_SCORE: Unit.FLAG,
}

# BUREAU_FALLBACK is known on a fallback report too: it is the one thing that report states truly.
_APPLICATION_ONLY = frozenset(
    {Measure.AMOUNT, Measure.AMOUNT_VS_ANNUAL_INCOME, Measure.PTI, Measure.LTI, Measure.BUREAU_FALLBACK}
)

# The condition in SPEC §6's words; `{c}` is the comparator and `{t}` the threshold.
_CONDITIONS = {
    Measure.AMOUNT: "amount {c} {t}",
    Measure.AMOUNT_VS_ANNUAL_INCOME: "amount {c} {t} × income × 12",  # noqa: RUF001
    Measure.PTI: "PTI {c} {t}",
    Measure.LTI: "LTI {c} {t}",
    Measure.DTI: "DTI {c} {t}",
    Measure.TDTI: "TDTI {c} {t}",
    Measure.TDTI_12: "obligations + amount / 12, over income, × 100 {c} {t}",  # noqa: RUF001
    Measure.DEBT_VS_MONTHLY_INCOME: "debt {c} {t} × income",  # noqa: RUF001
    Measure.SCORE: "score {c} {t}",
    Measure.DEFAULTS: "defaults",
    Measure.ACCOUNT_AGE: "account_age {c} {t}",
    Measure.BUREAU_FALLBACK: "the report is a fallback (bureau unavailable)",
    Measure.BUREAU_NO_SCORE: "the bureau returned no score",
}

_CODE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")


@dataclass(frozen=True)
class Rule:
    """One row of a rule set: when `measure comparator threshold` holds, the rule fires.

    For a flag the comparator is `IS` and the threshold `True`. For AMOUNT_VS_ANNUAL_INCOME and
    DEBT_VS_MONTHLY_INCOME the threshold is a multiple of the applicant's income (`2` means
    `2 * income * 12`; `6` means `6 * income`).
    """

    code: str
    measure: Measure
    comparator: Comparator
    threshold: Decimal | bool
    points: int
    effect: Effect

    def __post_init__(self) -> None:
        if not _CODE.fullmatch(self.code):
            raise ValueError(f"rule code {self.code!r} is not UPPER_SNAKE_CASE")
        is_flag = self.measure.unit is Unit.FLAG
        if is_flag != (self.comparator is Comparator.IS):
            raise ValueError(f"{self.code}: flags, and only flags, are compared with IS")
        if is_flag and self.threshold is not True:
            # The messages describe the flag being set; a rule on an unset flag needs its own words.
            raise ValueError(f"{self.code}: a flag rule fires when the flag is True")
        if not is_flag:
            if not isinstance(self.threshold, Decimal) or not self.threshold.is_finite():
                raise TypeError(f"{self.code}: the threshold must be a finite Decimal")
            if self.measure.unit is Unit.COUNT and self.threshold != self.threshold.to_integral_value():
                raise ValueError(f"{self.code}: a {self.measure.value} threshold is a whole number")
        if not isinstance(self.points, int) or isinstance(self.points, bool):
            raise TypeError(f"{self.code}: points must be an int")
        # Bonuses only take points away (SPEC §6), and only bonuses do.
        if (self.effect is Effect.BONUS) != (self.points < 0):
            raise ValueError(f"{self.code}: bonuses, and only bonuses, have negative points")

    @property
    def description(self) -> str:
        """The condition in words, as SPEC §6 writes it (`DTI ≥ 40`, `amount > 20,000`)."""
        threshold = "" if isinstance(self.threshold, bool) else f"{self.threshold:,}"
        return _CONDITIONS[self.measure].format(c=self.comparator.value, t=threshold)

    @property
    def threshold_text(self) -> str:
        """The threshold as a plain decimal string (`40`, `20000`); empty for a flag."""
        return "" if isinstance(self.threshold, bool) else f"{self.threshold:f}"


@dataclass(frozen=True)
class RuleSet:
    """A country's rules at one version. Published versions never change: a new version is a new object.

    The order of `rules` is the table order, which breaks ties between reasons of equal points.
    """

    country: Country
    version: str
    effective_from: date
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        if not re.fullmatch(rf"{self.country.value}-[0-9]{{4}}\.[1-9][0-9]*", self.version):
            raise ValueError(f"version {self.version!r} is not of the form {self.country.value}-YYYY.N")
        if not self.rules:
            raise ValueError(f"{self.version} has no rules")
        codes = [rule.code for rule in self.rules]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"{self.version} repeats rule codes {duplicates}")

    def rule(self, code: str) -> Rule:
        """The rule with this code; `KeyError` if the set has none."""
        for rule in self.rules:
            if rule.code == code:
                return rule
        raise KeyError(code)
