"""Brazil's rules (SPEC §6), bureau Serasa.

Published versions never change: a change of rules is a new version, added below and to VERSIONS.
"""

from datetime import date
from decimal import Decimal

from scoring.facts import Country
from scoring.rules import BONUS, GE, GT, HARD, IS, LT, SOFT, Measure, Rule, RuleSet

BR_2026_1 = RuleSet(
    country=Country.BR,
    version="BR-2026.1",
    effective_from=date(2026, 1, 1),
    rules=(
        #    code                measure                  compared  threshold         points  effect
        # Within SPEC §3's limits (amount ≤ 100,000, income ≥ 2,000) LTI stays ≤ 4.17, so BR_LTI only
        # fires on figures intake would refuse (what-if analysis, or a change of limits); and since the
        # TDTI below is at least 100 * LTI, BR_TDTI fires with it whenever obligations are known.
        Rule("BR_LTI",           Measure.LTI,             GT,       Decimal("5"),      25,    HARD),
        # The amount is spread over 12 months here, whatever the loan term.
        Rule("BR_TDTI",          Measure.TDTI_12,         GT,       Decimal("35"),     20,    HARD),
        Rule("BR_SCORE",         Measure.SCORE,           LT,       Decimal("550"),    25,    HARD),
        Rule("BR_DEFAULTS",      Measure.DEFAULTS,        IS,       True,              30,    HARD),
        Rule("BR_SCORE_BONUS",   Measure.SCORE,           GE,       Decimal("700"),   -10,    BONUS),
        Rule("BR_TENURE_BONUS",  Measure.ACCOUNT_AGE,     GE,       Decimal("24"),     -5,    BONUS),
        # Every country's set ends with these two; they are written out so that the version is whole.
        Rule("BUREAU_FALLBACK",  Measure.BUREAU_FALLBACK, IS,       True,               0,    SOFT),
        Rule("BUREAU_NO_SCORE",  Measure.BUREAU_NO_SCORE, IS,       True,              10,    SOFT),
    ),
)  # fmt: skip

# Oldest first.
VERSIONS = (BR_2026_1,)
