"""Spain's rules (SPEC §6), bureau ASNEF / CIRBE.

Published versions never change: a change of rules is a new version, added below and to VERSIONS.
"""

from datetime import date
from decimal import Decimal

from scoring.facts import Country
from scoring.rules import BONUS, GE, GT, HARD, IS, LT, SOFT, Measure, Rule, RuleSet

ES_2026_1 = RuleSet(
    country=Country.ES,
    version="ES-2026.1",
    effective_from=date(2026, 1, 1),
    rules=(
        #    code                measure                  compared  threshold         points  effect
        Rule("ES_AMOUNT_REVIEW", Measure.AMOUNT,          GT,       Decimal("20000"),  15,    SOFT),
        Rule("ES_DTI",           Measure.DTI,             GE,       Decimal("40"),     30,    HARD),
        Rule("ES_SCORE",         Measure.SCORE,           LT,       Decimal("600"),    25,    HARD),
        Rule("ES_DEFAULTS",      Measure.DEFAULTS,        IS,       True,              40,    HARD),
        Rule("ES_PTI",           Measure.PTI,             GT,       Decimal("35"),     20,    SOFT),
        Rule("ES_SCORE_BONUS",   Measure.SCORE,           GE,       Decimal("750"),   -10,    BONUS),
        # Every country's set ends with these two; they are written out so that the version is whole.
        Rule("BUREAU_FALLBACK",  Measure.BUREAU_FALLBACK, IS,       True,               0,    SOFT),
        Rule("BUREAU_NO_SCORE",  Measure.BUREAU_NO_SCORE, IS,       True,              10,    SOFT),
    ),
)  # fmt: skip

# Oldest first.
VERSIONS = (ES_2026_1,)
