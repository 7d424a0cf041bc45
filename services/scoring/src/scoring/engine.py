"""Runs a country's rule set on an application and its credit report, and derives the decision (SPEC §6).

Pure: no I/O and no randomness. The same facts and rule set always give the same decision, so a stored
decision can be replayed from its rule-set version. Only the choice of the current rule set reads the date.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from enum import StrEnum

from scoring import ratios
from scoring.facts import ApplicationFacts, BureauFacts
from scoring.messages import LocalizedText, machine_text, reason_text
from scoring.rules import Effect, Measure, Rule, RuleSet
from scoring.rulesets import rule_set as current_rule_set

# The reasons shown to the applicant (SPEC §6); every reason is kept for analysts.
PRINCIPAL_REASONS = 4

MIN_RISK_SCORE = Decimal("0.00")
MAX_RISK_SCORE = Decimal("100.00")


class Outcome(StrEnum):
    """What the rules decided."""

    APPROVE = "APPROVE"
    REVIEW = "REVIEW"
    REJECT = "REJECT"


class RiskLevel(StrEnum):
    """The band a risk score falls in."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


def risk_level(risk_score: Decimal) -> RiskLevel:
    """Below 30 LOW, below 50 MEDIUM, below 70 HIGH, otherwise CRITICAL."""
    if risk_score < 30:
        return RiskLevel.LOW
    if risk_score < 50:
        return RiskLevel.MEDIUM
    if risk_score < 70:
        return RiskLevel.HIGH
    return RiskLevel.CRITICAL


@dataclass(frozen=True)
class Reason:
    """A rule or bonus that fired: what was observed, against what, and what it weighed."""

    code: str
    effect: Effect
    points: int
    # Plain decimal strings with a dot (`42.50`, `20000.00`, `600`), or `true` for a flag.
    observed: str
    threshold: str
    messages: LocalizedText

    @property
    def message(self) -> str:
        """The sentence in English."""
        return self.messages.en


@dataclass(frozen=True)
class Decision:
    """The outcome, the risk score (0.00 to 100.00) and its level, the ranked reasons, the rule set used."""

    outcome: Outcome
    risk_score: Decimal
    risk_level: RiskLevel
    reasons: tuple[Reason, ...]
    rule_set_version: str

    @property
    def principal_reasons(self) -> tuple[Reason, ...]:
        """The first four reasons: those shown to the applicant."""
        return self.reasons[:PRINCIPAL_REASONS]


def decide(
    application: ApplicationFacts, bureau: BureauFacts, *, rule_set: RuleSet | None = None
) -> Decision:
    """Decide by `rule_set`, or by the country's current rule set when none is given.

    Pass the stored version's rule set (`scoring.rulesets.rule_set(country, version)`) to replay a past
    decision exactly.
    """
    rules = rule_set if rule_set is not None else current_rule_set(application.country)
    if rules.country is not application.country:
        raise ValueError(f"rule set {rules.version} is not for {application.country.value}")
    known = bureau.known()

    fired: list[Reason] = []
    for rule in rules.rules:
        reason = _evaluate(rule, application, known)
        if reason is not None:
            fired.append(reason)
    # sorted() is stable: reasons of equal points keep the table order.
    reasons = tuple(sorted(fired, key=lambda reason: -reason.points))

    score = Decimal(sum(reason.points for reason in reasons))
    # In the engine's own context: a caller's low decimal precision must not fail (or change) a decision.
    score = min(max(score, MIN_RISK_SCORE), MAX_RISK_SCORE).quantize(Decimal("0.01"), context=ratios.EXACT)
    return Decision(
        outcome=_outcome(reasons),
        risk_score=score,
        risk_level=risk_level(score),
        reasons=reasons,
        rule_set_version=rules.version,
    )


def _outcome(reasons: tuple[Reason, ...]) -> Outcome:
    # Bonuses never change the outcome: only HARD and SOFT reasons are looked at.
    effects = {reason.effect for reason in reasons}
    if Effect.HARD in effects:
        return Outcome.REJECT
    if Effect.SOFT in effects:
        return Outcome.REVIEW
    return Outcome.APPROVE


def _evaluate(rule: Rule, application: ApplicationFacts, bureau: BureauFacts) -> Reason | None:
    observed = observe(rule.measure, application, bureau)
    if observed is None:
        return None  # a rule whose input is absent does not fire
    limit = limit_of(rule, application)
    if not rule.comparator.holds(observed, limit):
        return None
    unit = rule.measure.unit
    return Reason(
        code=rule.code,
        effect=rule.effect,
        points=rule.points,
        observed=machine_text(observed, unit),
        threshold=machine_text(limit, unit),
        messages=reason_text(rule, observed, limit, application.country),
    )


def observe(measure: Measure, application: ApplicationFacts, bureau: BureauFacts) -> Decimal | bool | None:
    """The unrounded value a measure takes on these facts, or `None` when an input it needs is absent.

    `bureau` is taken as given: pass `bureau.known()` so that a fallback report counts as absent.
    """
    amount = application.requested_amount
    income = application.monthly_income
    term = application.term_months
    obligations = bureau.monthly_obligations
    match measure:
        case Measure.AMOUNT | Measure.AMOUNT_VS_ANNUAL_INCOME:
            return amount
        case Measure.PTI:
            return ratios.pti(amount, income, term)
        case Measure.LTI:
            return ratios.lti(amount, income)
        case Measure.DTI:
            return None if obligations is None else ratios.dti(obligations, income)
        case Measure.TDTI:
            return None if obligations is None else ratios.tdti(obligations, amount, income, term)
        case Measure.TDTI_12:
            # SPEC §6 spreads the amount over 12 months here, not over the term.
            return None if obligations is None else ratios.tdti(obligations, amount, income, 12)
        case Measure.DEBT_VS_MONTHLY_INCOME:
            return bureau.total_debt
        case Measure.SCORE:
            return None if bureau.credit_score is None else Decimal(bureau.credit_score)
        case Measure.DEFAULTS:
            return bureau.has_defaults
        case Measure.ACCOUNT_AGE:
            return None if bureau.account_age_months is None else Decimal(bureau.account_age_months)
        case Measure.BUREAU_FALLBACK:
            return bureau.fallback
        case Measure.BUREAU_NO_SCORE:
            # On a fallback report nothing was returned, so "no score" is not an observation either.
            return None if bureau.fallback else bureau.credit_score is None


def limit_of(rule: Rule, application: ApplicationFacts) -> Decimal | bool:
    """What the observed value is compared with: the threshold, or the amount an income multiple comes to."""
    threshold = rule.threshold
    if isinstance(threshold, bool):
        return threshold
    with localcontext(ratios.EXACT):
        match rule.measure:
            case Measure.AMOUNT_VS_ANNUAL_INCOME:
                return threshold * application.annual_income
            case Measure.DEBT_VS_MONTHLY_INCOME:
                return threshold * application.monthly_income
            case _:
                return threshold
