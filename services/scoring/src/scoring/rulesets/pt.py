"""Portugal's rules (SPEC §6), bureau Banco de Portugal CRC.

Published versions never change: a change of rules is a new version, added below and to VERSIONS.
"""

from datetime import date
from decimal import Decimal

from scoring.facts import Country
from scoring.rules import BONUS, GE, GT, HARD, IS, LT, SOFT, Measure, Rule, RuleSet

PT_2026_1 = RuleSet(
    country=Country.PT,
    version="PT-2026.1",
    effective_from=date(2026, 1, 1),
    rules=(
        #    code                measure                  compared  threshold         points  effect
        # Within SPEC §3's limits (amount ≤ 30,000, income ≥ 800) LTI stays ≤ 3.125, so PT_LTI only
        # fires on figures intake would refuse (what-if analysis, or a change of limits).
        Rule("PT_LTI",           Measure.LTI,             GT,       Decimal("4"),      25,    HARD),
        Rule("PT_DTI",           Measure.DTI,             GE,       Decimal("40"),     30,    HARD),
        Rule("PT_SCORE",         Measure.SCORE,           LT,       Decimal("600"),    25,    HARD),
        Rule("PT_DEFAULTS",      Measure.DEFAULTS,        IS,       True,              35,    HARD),
        Rule("PT_PTI",           Measure.PTI,             GT,       Decimal("35"),     20,    SOFT),
        Rule("PT_SCORE_BONUS",   Measure.SCORE,           GE,       Decimal("750"),   -10,    BONUS),
        # Every country's set ends with these two; they are written out so that the version is whole.
        Rule("BUREAU_FALLBACK",  Measure.BUREAU_FALLBACK, IS,       True,               0,    SOFT),
        Rule("BUREAU_NO_SCORE",  Measure.BUREAU_NO_SCORE, IS,       True,              10,    SOFT),
    ),
)  # fmt: skip

# Oldest first.
VERSIONS = (PT_2026_1,)
