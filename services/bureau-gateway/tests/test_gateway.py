"""The use case: deadlines, retries of transient failures only, the circuit breaker, and fallbacks,
driven through scripted bureaus and a fake clock."""

import asyncio
import random
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from bureau_gateway_harness import FakeClock, FakeSleep, ScriptedBureau
from prometheus_client import REGISTRY

from bureau_gateway.adapter import BureauRefused, BureauTimeout, BureauUnavailable
from bureau_gateway.bureaus import Country
from bureau_gateway.circuit import CircuitBoard, CircuitBreaker, CircuitState
from bureau_gateway.clock import SystemClock, real_sleep
from bureau_gateway.gateway import BureauGateway, ConsentMissing, Deadlines
from bureau_gateway.reports import BureauReport
from bureau_gateway.retry import RetryPolicy

COOL_DOWN = timedelta(seconds=10)


class HangingBureau(ScriptedBureau):
    """Never answers within any deadline."""

    async def fetch(self, document: str, consent_reference: str) -> BureauReport:
        self.calls += 1
        await asyncio.sleep(30)
        raise AssertionError("the gateway's deadline should have cut this call")


class Harness:
    def __init__(self, es_bureau=None, *, threshold=3, attempts=3, deadlines=None, real_time=False):
        # Real time where the bureau's own deadline (asyncio's, on the real clock) meets the budget.
        self.clock = SystemClock() if real_time else FakeClock()
        self.sleep = real_sleep if real_time else FakeSleep(self.clock)
        self.bureaus = {country: ScriptedBureau(country) for country in Country}
        if es_bureau is not None:
            self.bureaus[Country.ES] = es_bureau
        self.circuits = CircuitBoard(
            CircuitBreaker(
                country, bureau.provider, failure_threshold=threshold, cool_down=COOL_DOWN, clock=self.clock
            )
            for country, bureau in self.bureaus.items()
        )
        self.gateway = BureauGateway(
            self.bureaus,
            self.circuits,
            retry=RetryPolicy(max_attempts=attempts, base_delay=0.01, max_delay=0.1),
            deadlines=deadlines or Deadlines(attempt_timeout=0.3, call_timeout=1.5, answer_margin=0.02),
            clock=self.clock,
            sleep=self.sleep,
            rng=random.Random(1),
        )

    @property
    def es(self):
        return self.bureaus[Country.ES]

    def circuit(self, country=Country.ES):
        return self.circuits.breaker(country, self.bureaus[country].provider).snapshot()

    async def ask(self, country=Country.ES, *, time_left=None):
        return await self.gateway.credit_report(country, "70000123A", "consent-1", time_left=time_left)


def calls(outcome, country="ES", provider="ASNEF"):
    value = REGISTRY.get_sample_value(
        "bureau_calls_total", {"country": country, "provider": provider, "outcome": outcome}
    )
    return value or 0.0


def assert_fallback(report, provider="ASNEF", currency="EUR"):
    assert report.fallback is True
    assert (report.provider, report.currency, report.report_id) == (provider, currency, "")
    assert report.credit.credit_score is None
    assert report.credit.total_debt == report.credit.monthly_obligations == Decimal("0.00")
    assert report.credit.has_defaults is False
    assert report.credit.account_age_months == 0


async def test_a_bureau_that_answers_is_asked_once():
    harness = Harness()
    report = await harness.ask()
    assert report.fallback is False
    assert harness.es.calls == 1
    assert harness.sleep.pauses == []


async def test_transient_failures_are_retried_with_backoff_until_the_bureau_answers():
    harness = Harness(ScriptedBureau(Country.ES, [BureauUnavailable(), BureauTimeout(), None]))
    report = await harness.ask()
    assert report.fallback is False
    assert harness.es.calls == 3
    assert len(harness.sleep.pauses) == 2
    assert 0 <= harness.sleep.pauses[0] <= 0.01
    assert 0 <= harness.sleep.pauses[1] <= 0.02


async def test_when_the_retries_are_used_up_the_answer_is_a_fallback_report():
    harness = Harness(ScriptedBureau(Country.ES, [BureauUnavailable()]), threshold=100)
    before = (calls("unavailable"), calls("fallback"))
    report = await harness.ask()
    assert_fallback(report)
    assert harness.es.calls == 3
    assert (calls("unavailable"), calls("fallback")) == (before[0] + 3, before[1] + 1)


async def test_a_refusal_is_not_retried_and_answers_a_fallback_report():
    harness = Harness(ScriptedBureau(Country.ES, [BureauRefused()]))
    refused = calls("refused")
    assert_fallback(await harness.ask())
    assert harness.es.calls == 1
    assert calls("refused") == refused + 1


async def test_refusals_do_not_count_towards_the_circuit():
    harness = Harness(ScriptedBureau(Country.ES, [BureauRefused()]), threshold=2)
    for _ in range(5):
        await harness.ask()
    assert harness.circuit().state is CircuitState.CLOSED
    assert harness.es.calls == 5


async def test_the_circuit_opens_after_n_consecutive_failures_across_calls():
    harness = Harness(ScriptedBureau(Country.ES, [BureauUnavailable()]), threshold=3, attempts=2)
    await harness.ask()
    assert (harness.circuit().state, harness.circuit().consecutive_failures) == (CircuitState.CLOSED, 2)
    assert_fallback(await harness.ask())
    # The third failure opened it, so the second call's retry was never made.
    assert harness.es.calls == 3
    assert harness.circuit().state is CircuitState.OPEN


async def test_while_the_circuit_is_open_fallbacks_are_answered_without_calling():
    harness = Harness(ScriptedBureau(Country.ES, [BureauUnavailable()]), threshold=3)
    await harness.ask()
    assert harness.circuit().state is CircuitState.OPEN
    harness.es.then(None)  # the bureau is back, but nobody may know before the cool-down
    for _ in range(10):
        assert_fallback(await harness.ask())
    assert harness.es.calls == 3


async def test_other_countries_keep_their_own_circuits():
    harness = Harness(ScriptedBureau(Country.ES, [BureauUnavailable()]), threshold=3)
    await harness.ask()
    assert (await harness.ask(Country.PT)).fallback is False
    assert harness.circuit(Country.PT).state is CircuitState.CLOSED


async def test_after_the_cool_down_a_successful_trial_closes_the_circuit():
    harness = Harness(ScriptedBureau(Country.ES, [BureauUnavailable()]), threshold=3)
    await harness.ask()
    harness.es.then(None)
    harness.clock.advance(COOL_DOWN.total_seconds())
    assert harness.circuit().state is CircuitState.HALF_OPEN
    report = await harness.ask()
    assert report.fallback is False
    assert harness.es.calls == 4
    assert (harness.circuit().state, harness.circuit().consecutive_failures) == (CircuitState.CLOSED, 0)


async def test_a_failed_trial_opens_the_circuit_again_without_retrying():
    harness = Harness(ScriptedBureau(Country.ES, [BureauUnavailable()]), threshold=3)
    await harness.ask()
    harness.clock.advance(COOL_DOWN.total_seconds())
    trial_time = harness.clock.now()
    assert_fallback(await harness.ask())
    assert harness.es.calls == 4  # the trial only: its retry found the circuit open again
    assert harness.circuit().state is CircuitState.OPEN
    assert harness.circuit().state_change_time == trial_time


async def test_an_attempt_that_outlasts_its_deadline_is_a_timeout():
    deadlines = Deadlines(attempt_timeout=0.05, call_timeout=1.0, answer_margin=0.0)
    harness = Harness(
        HangingBureau(Country.ES), attempts=2, threshold=100, deadlines=deadlines, real_time=True
    )
    timeouts = calls("timeout")
    started = time.monotonic()
    assert_fallback(await harness.ask())
    assert time.monotonic() - started < 0.5
    assert harness.es.calls == 2
    assert calls("timeout") == timeouts + 2
    assert harness.circuit().consecutive_failures == 2


async def test_the_call_never_outlasts_the_callers_remaining_time():
    deadlines = Deadlines(attempt_timeout=0.5, call_timeout=5.0, answer_margin=0.05)
    harness = Harness(HangingBureau(Country.ES), threshold=1, deadlines=deadlines, real_time=True)
    started = time.monotonic()
    assert_fallback(await harness.ask(time_left=0.3))
    assert time.monotonic() - started < 0.3
    # Cut short by the caller, the timeout proves nothing against the bureau: the circuit stays closed.
    assert (harness.circuit().state, harness.circuit().consecutive_failures) == (CircuitState.CLOSED, 0)


async def test_without_time_left_for_a_call_the_fallback_comes_at_once():
    harness = Harness()
    assert_fallback(await harness.ask(time_left=0.01))
    assert harness.es.calls == 0


@pytest.mark.parametrize("consent", ["", "   "])
async def test_a_call_without_consent_is_refused_before_any_bureau_call(consent):
    harness = Harness()
    with pytest.raises(ConsentMissing):
        await harness.gateway.credit_report(Country.ES, "70000123A", consent, time_left=None)
    assert harness.es.calls == 0


async def test_a_cancelled_trial_frees_the_half_open_slot():
    es = ScriptedBureau(Country.ES, [BureauUnavailable()])
    harness = Harness(es, threshold=3)
    await harness.ask()
    harness.clock.advance(COOL_DOWN.total_seconds())
    hanging = HangingBureau(Country.ES)
    harness.gateway._bureaus[Country.ES] = hanging
    task = asyncio.create_task(harness.ask())
    await asyncio.sleep(0.01)
    assert hanging.calls == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    harness.gateway._bureaus[Country.ES] = es
    es.then(None)
    assert (await harness.ask()).fallback is False
