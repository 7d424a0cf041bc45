"""Every published rule set, by country and version: the current one decides new applications, and any
past one can be asked for by its version so that a stored decision replays exactly.

Each country's rules are in its own module (`es.py` … `br.py`), one table per version, oldest first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from itertools import pairwise
from types import MappingProxyType

from scoring.facts import Country
from scoring.messages import has_wording
from scoring.rules import RuleSet
from scoring.rulesets import br, co, es, it, mx, pt


class RuleSetNotFound(LookupError):
    """A country has no rule set of that version, or none in effect yet on the date asked."""

    def __init__(self, country: Country, version: str | None, on: date | None = None) -> None:
        self.country = country
        self.version = version
        self.on = on
        if version is not None:
            detail = f"no rule set {version!r} for {country.value}"
        else:
            detail = f"no rule set of {country.value} in effect on {on}"
        super().__init__(detail)


def _checked(country: Country, versions: tuple[RuleSet, ...]) -> tuple[RuleSet, ...]:
    # Checked once, at import: a malformed table must stop the service, not surface in a decision.
    if not versions:
        raise ValueError(f"{country.value} has no rule set")
    for rule_set in versions:
        if rule_set.country is not country:
            raise ValueError(f"{rule_set.version} is filed under {country.value}")
        for rule in rule_set.rules:
            if not has_wording(rule):
                raise ValueError(f"{rule_set.version} {rule.code}: no sentence for its reasons")
    names = [rule_set.version for rule_set in versions]
    if len(set(names)) != len(names):
        raise ValueError(f"{country.value} publishes a version twice: {names}")
    dates = [rule_set.effective_from for rule_set in versions]
    if any(earlier >= later for earlier, later in pairwise(dates)):
        raise ValueError(f"{country.value}'s versions must take effect one after another: {names}")
    return versions


_PUBLISHED: Mapping[Country, tuple[RuleSet, ...]] = MappingProxyType(
    {
        Country.ES: _checked(Country.ES, es.VERSIONS),
        Country.PT: _checked(Country.PT, pt.VERSIONS),
        Country.IT: _checked(Country.IT, it.VERSIONS),
        Country.MX: _checked(Country.MX, mx.VERSIONS),
        Country.CO: _checked(Country.CO, co.VERSIONS),
        Country.BR: _checked(Country.BR, br.VERSIONS),
    }
)


def published(country: Country) -> tuple[RuleSet, ...]:
    """Every version of a country's rules, oldest first."""
    return _PUBLISHED[country]


def rule_set(country: Country, version: str | None = None, *, on: date | None = None) -> RuleSet:
    """A country's rule set: the named `version`, or without one the version in effect `on` a date.

    `on` defaults to today (UTC); it is ignored when a version is named, since a named version is asked
    for to replay a decision, whenever it was made. Raises `RuleSetNotFound` for an unknown version, or
    when no version is in effect yet on that date.
    """
    versions = _PUBLISHED[country]
    if version is not None:
        for candidate in versions:
            if candidate.version == version:
                return candidate
        raise RuleSetNotFound(country, version)
    day = on if on is not None else datetime.now(UTC).date()
    in_effect = [candidate for candidate in versions if candidate.effective_from <= day]
    if not in_effect:
        raise RuleSetNotFound(country, None, day)
    return in_effect[-1]
