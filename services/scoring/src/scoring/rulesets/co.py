"""Colombia's rules (SPEC §6), bureau DataCrédito.

Published versions never change: a change of rules is a new version, added below and to VERSIONS.
"""

from datetime import date
from decimal import Decimal

from scoring.facts import Country
from scoring.rules import BONUS, GE, GT, HARD, IS, LT, SOFT, Measure, Rule, RuleSet

CO_2026_1 = RuleSet(
    country=Country.CO,
    version="CO-2026.1",
    effective_from=date(2026, 1, 1),
    rules=(
        #    code                measure                         compared  threshold        points  effect
        # The amount is spread over 12 months here, whatever the loan term.
        Rule("CO_TDTI",          Measure.TDTI_12,                GT,       Decimal("40"),    25,    HARD),
        Rule("CO_SCORE",         Measure.SCORE,                  LT,       Decimal("600"),   30,    HARD),
        # SOFT: Colombian law allows no rejection on a negative bureau report alone.
        Rule("CO_DEFAULTS",      Measure.DEFAULTS,               IS,       True,             35,    SOFT),
        # debt > 6 * income: the reason shows the total debt against 6 * income, in money.
        Rule("CO_TOTAL_DEBT",    Measure.DEBT_VS_MONTHLY_INCOME, GT,       Decimal("6"),     15,    SOFT),
        Rule("CO_SCORE_BONUS",   Measure.SCORE,                  GE,       Decimal("750"),  -15,    BONUS),
        Rule("CO_TENURE_BONUS",  Measure.ACCOUNT_AGE,            GE,       Decimal("36"),   -10,    BONUS),
        # Every country's set ends with these two; they are written out so that the version is whole.
        Rule("BUREAU_FALLBACK",  Measure.BUREAU_FALLBACK,        IS,       True,              0,    SOFT),
        Rule("BUREAU_NO_SCORE",  Measure.BUREAU_NO_SCORE,        IS,       True,             10,    SOFT),
    ),
)  # fmt: skip

# Oldest first.
VERSIONS = (CO_2026_1,)
