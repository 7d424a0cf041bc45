"""The simulated bureaus: a report that is a pure function of (country, normalised document), served
after a configurable latency, with configurable transient failures, the sandbox identities' fixed
answers, and whatever fault InjectFault has put in force.

One `SimulatedBureau` per country, each with its country's `BureauProfile`, implements the same
`BureauClient` interface a real bureau's adapter would.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass

from bureau_gateway.adapter import BureauTimeout, BureauUnavailable
from bureau_gateway.bureaus import BureauProfile, Country
from bureau_gateway.clock import Clock, Sleep
from bureau_gateway.faults import FaultBoard, FaultKind, FaultSpec
from bureau_gateway.reports import BureauReport, CreditFile, money
from bureau_gateway.sandbox import Scenario, find_sandbox_identity

# Shares of applicants, in thousandths.
NO_SCORE_PER_MILLE = 50
"""About one applicant in twenty has no score (a thin file: new to credit, or recently arrived)."""
DEFAULTS_PER_MILLE = 100
"""About one in ten has an active default (SPEC §7)."""
NO_CREDIT_PER_MILLE = 200
"""Of those with a score, about one in five has no credit running now: no obligations, no debt."""

# Monthly obligations as thousandths of the country's typical monthly income.
MIN_OBLIGATIONS_PER_MILLE = 20
MAX_OBLIGATIONS_PER_MILLE = 700
"""Nobody the bureau reports pays out more than 70% of a typical income each month."""
MAX_REMAINING_MONTHS = 240
"""Debt = obligations x months left to repay; mortgages run up to twenty years."""
MAX_ACCOUNT_AGE_MONTHS = 360

_HASH_PERSON = b"gcc-bureau-sim"  # domain separation: these draws mean nothing anywhere else
_DRAW_BITS = 32


class _Draws:
    """Independent uniform integers drawn from a hash of (country, document): deterministic, spread
    evenly, and unrelated between countries even for the same digits."""

    def __init__(self, country: Country, document: str) -> None:
        self._digest = hashlib.blake2b(
            f"{country.value}\x1f{document}".encode(), digest_size=64, person=_HASH_PERSON
        ).digest()

    def raw(self, index: int) -> int:
        start = index * 4
        return int.from_bytes(self._digest[start : start + 4], "big")

    def per_mille(self, index: int) -> int:
        """Uniform in [0, 1000)."""
        return self.raw(index) * 1000 >> _DRAW_BITS

    def below(self, index: int, bound: int) -> int:
        """Uniform in [0, bound); bound far below 2^32, so the bias is negligible."""
        return self.raw(index) % bound


def simulated_file(profile: BureauProfile, document: str) -> CreditFile:
    """What the country's simulated bureau knows of the holder of `document` (normalised).

    Whole numbers throughout, so the result is exact and the same on every machine. Scores are
    bell-shaped around two thirds of the scale; defaults pull a score down and debts up.
    """
    draws = _Draws(profile.country, document)
    has_score = draws.per_mille(0) >= NO_SCORE_PER_MILLE
    has_defaults = draws.per_mille(1) < DEFAULTS_PER_MILLE

    score: int | None = None
    if has_score:
        # The mean of three uniform draws is bell-shaped; placed on 35%-95% of the scale, 10%-70%
        # with a default, so high scores earn bonuses and low ones fall under the hard thresholds.
        bell = (draws.per_mille(2) + draws.per_mille(3) + draws.per_mille(4)) // 3
        position = 350 + bell * 600 // 1000 - (250 if has_defaults else 0)
        score = profile.score_min + (profile.score_max - profile.score_min) * position // 1000

    if has_score:
        account_age = 6 + draws.below(5, MAX_ACCOUNT_AGE_MONTHS - 5)
        running_credit = has_defaults or draws.per_mille(6) >= NO_CREDIT_PER_MILLE
    else:
        # A thin file: a young history and at most a small running credit.
        account_age = draws.below(5, 12)
        running_credit = has_defaults or draws.per_mille(6) >= 600

    obligations_cents = debt_cents = 0
    if running_credit:
        # The product of two uniform draws leans towards small shares of income, as real ones do.
        span = MAX_OBLIGATIONS_PER_MILLE - MIN_OBLIGATIONS_PER_MILLE - 150
        share = MIN_OBLIGATIONS_PER_MILLE + span * draws.per_mille(7) * draws.per_mille(8) // 1_000_000
        if has_defaults:
            share += 150  # those who default owe more
        if not has_score:
            share = min(share, 150)
        income_cents = int(profile.typical_monthly_income * 100)
        obligations_cents = income_cents * share // 1000 + draws.below(9, 100)
        remaining_months = 6 + draws.below(10, MAX_REMAINING_MONTHS - 5)
        debt_cents = obligations_cents * remaining_months
        if has_defaults:
            debt_cents += obligations_cents * (3 + draws.below(11, 10))  # instalments in arrears

    return CreditFile(
        credit_score=score,
        total_debt=money(debt_cents),
        monthly_obligations=money(obligations_cents),
        has_defaults=has_defaults,
        account_age_months=account_age,
    )


@dataclass(frozen=True)
class SimulationSettings:
    """How the simulated bureaus behave without any injected fault."""

    latency: float = 0.015
    """Seconds every answer takes at least."""
    latency_jitter: float = 0.010
    """Up to this many seconds more, uniformly (the default mean is 20 ms)."""
    failure_rate: float = 0.0
    """Share of calls that fail with a transient error."""
    hang: float = 30.0
    """How long a timing-out bureau hangs before giving up itself; the gateway's deadline comes first."""


class SimulatedBureau:
    """A country's bureau, simulated. One enquiry per `fetch`."""

    def __init__(
        self,
        profile: BureauProfile,
        *,
        settings: SimulationSettings,
        faults: FaultBoard,
        clock: Clock,
        sleep: Sleep,
        rng: random.Random,
    ) -> None:
        self._profile = profile
        self._settings = settings
        self._faults = faults
        self._clock = clock
        self._sleep = sleep
        self._rng = rng

    @property
    def country(self) -> Country:
        return self._profile.country

    @property
    def provider(self) -> str:
        return self._profile.provider

    async def fetch(self, document: str, consent_reference: str) -> BureauReport:
        fault = self._faults.active(self._profile.country)
        identity = find_sandbox_identity(self._profile.country, document)
        scenario = identity.scenario if identity is not None else None
        if scenario is Scenario.OUTAGE or (fault is not None and fault.kind is FaultKind.OUTAGE):
            raise BureauUnavailable(f"{self.provider} refused the connection")
        if scenario is Scenario.TIMEOUT or (fault is not None and fault.kind is FaultKind.TIMEOUT):
            await self._sleep(self._settings.hang)
            raise BureauTimeout(f"{self.provider} did not answer")

        await self._sleep(self._latency(fault))
        if self._rng.random() < self._failure_rate(fault):
            raise BureauUnavailable(f"{self.provider} answered that it is unavailable")
        if identity is not None and identity.credit is not None:
            credit = identity.credit
        else:
            credit = simulated_file(self._profile, document)
        return BureauReport(
            provider=self.provider,
            currency=self._profile.currency,
            credit=credit,
            report_time=self._clock.now(),
            # The enquiry's own id, random like a real bureau's: one derived from the document would
            # be a linkable pseudonym of it.
            report_id=f"{self.provider}-{uuid.uuid4().hex[:20].upper()}",
        )

    def _latency(self, fault: FaultSpec | None) -> float:
        latency = self._settings.latency + self._rng.uniform(0.0, self._settings.latency_jitter)
        if fault is not None:
            latency += fault.added_latency.total_seconds()
        return latency

    def _failure_rate(self, fault: FaultSpec | None) -> float:
        if fault is not None and fault.kind is FaultKind.FLAKY:
            return fault.failure_rate
        return self._settings.failure_rate
