"""Italy's rules (SPEC §6), bureau CRIF.

Published versions never change: a change of rules is a new version, added below and to VERSIONS.
"""

from datetime import date
from decimal import Decimal

from scoring.facts import Country
from scoring.rules import BONUS, GE, GT, HARD, IS, LT, SOFT, Measure, Rule, RuleSet

IT_2026_1 = RuleSet(
    country=Country.IT,
    version="IT-2026.1",
    effective_from=date(2026, 1, 1),
    rules=(
        #    code                measure                          compared  threshold        points  effect
        Rule("IT_DTI",           Measure.DTI,                     GT,       Decimal("35"),    30,    HARD),
        Rule("IT_SCORE",         Measure.SCORE,                   LT,       Decimal("600"),   25,    HARD),
        Rule("IT_DEFAULTS",      Measure.DEFAULTS,                IS,       True,             35,    HARD),
        # amount > 2 * income * 12: the reason shows the amount against 24 * income, in money.
        Rule("IT_STABILITY",     Measure.AMOUNT_VS_ANNUAL_INCOME, GT,       Decimal("2"),     15,    SOFT),
        Rule("IT_PTI",           Measure.PTI,                     GT,       Decimal("30"),    20,    SOFT),
        Rule("IT_SCORE_BONUS",   Measure.SCORE,                   GE,       Decimal("750"),  -10,    BONUS),
        # Every country's set ends with these two; they are written out so that the version is whole.
        Rule("BUREAU_FALLBACK",  Measure.BUREAU_FALLBACK,         IS,       True,              0,    SOFT),
        Rule("BUREAU_NO_SCORE",  Measure.BUREAU_NO_SCORE,         IS,       True,             10,    SOFT),
    ),
)  # fmt: skip

# Oldest first.
VERSIONS = (IT_2026_1,)
