"""Mexico's rules (SPEC §6), bureau Buró de Crédito.

Published versions never change: a change of rules is a new version, added below and to VERSIONS.
"""

from datetime import date
from decimal import Decimal

from scoring.facts import Country
from scoring.rules import BONUS, GE, GT, HARD, IS, LE, LT, SOFT, Measure, Rule, RuleSet

MX_2026_1 = RuleSet(
    country=Country.MX,
    version="MX-2026.1",
    effective_from=date(2026, 1, 1),
    rules=(
        #    code                measure                  compared  threshold         points  effect
        # LTI > 3 means amount > 36 * income, and PTI > 30 means amount > 0.3 * term * income: with a
        # term of at most 120 months, MX_LTI never fires without MX_PTI.
        Rule("MX_LTI",           Measure.LTI,             GT,       Decimal("3"),      35,    HARD),
        Rule("MX_PTI",           Measure.PTI,             GT,       Decimal("30"),     25,    HARD),
        Rule("MX_SCORE",         Measure.SCORE,           LT,       Decimal("550"),    30,    HARD),
        Rule("MX_TDTI",          Measure.TDTI,            GT,       Decimal("45"),     30,    SOFT),
        Rule("MX_DEFAULTS",      Measure.DEFAULTS,        IS,       True,              35,    SOFT),
        Rule("MX_PTI_BONUS",     Measure.PTI,             LE,       Decimal("15"),     -5,    BONUS),
        Rule("MX_SCORE_BONUS",   Measure.SCORE,           GE,       Decimal("700"),   -10,    BONUS),
        # Every country's set ends with these two; they are written out so that the version is whole.
        Rule("BUREAU_FALLBACK",  Measure.BUREAU_FALLBACK, IS,       True,               0,    SOFT),
        Rule("BUREAU_NO_SCORE",  Measure.BUREAU_NO_SCORE, IS,       True,              10,    SOFT),
    ),
)  # fmt: skip

# Oldest first.
VERSIONS = (MX_2026_1,)
