"""The use case behind GetCreditReport: ask the country's bureau under a deadline, retry transient
failures, respect the circuit breaker, and answer a fallback report rather than an error when the
bureau cannot be asked.

The whole call fits in the caller's remaining time (less a margin to send the answer), so a fallback
arrives before the caller gives up; each attempt has its own, shorter deadline.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from opentelemetry import trace
from opentelemetry.trace import StatusCode

from bureau_gateway import metrics
from bureau_gateway.adapter import (
    BureauClient,
    BureauRefused,
    BureauTimeout,
    BureauUnavailable,
    TransientBureauError,
)
from bureau_gateway.bureaus import PROFILES, Country
from bureau_gateway.circuit import CircuitBoard, CircuitBreaker, Permit
from bureau_gateway.clock import Clock, Sleep
from bureau_gateway.reports import BureauReport, fallback_report
from bureau_gateway.retry import OutOfTime, RetryPolicy, call_with_retries

log = logging.getLogger(__name__)


class ConsentMissing(Exception):
    """A bureau enquiry needs the applicant's recorded consent (SPEC §7; the law in MX and CO)."""


class Outcome(StrEnum):
    """The `outcome` label of `bureau_calls_total`."""

    OK = "ok"
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"
    REFUSED = "refused"
    FALLBACK = "fallback"


class FallbackReason(StrEnum):
    CIRCUIT_OPEN = "circuit_open"
    RETRIES_EXHAUSTED = "retries_exhausted"
    REFUSED = "refused"
    NO_TIME = "no_time"


@dataclass(frozen=True)
class Deadlines:
    attempt_timeout: float = 0.3
    """Seconds one attempt may take."""
    call_timeout: float = 1.5
    """Seconds the whole call may take, retries and backoff included."""
    answer_margin: float = 0.02
    """Seconds kept back from the caller's deadline to build and send the answer."""


@dataclass
class _Tally:
    calls: int = 0
    """Calls actually made to the bureau (not those the circuit stopped)."""


class _CircuitOpen(Exception):
    """The breaker allowed no call: not a bureau failure, and never retried."""


class BureauGateway:
    def __init__(
        self,
        bureaus: Mapping[Country, BureauClient],
        circuits: CircuitBoard,
        *,
        retry: RetryPolicy,
        deadlines: Deadlines,
        clock: Clock,
        sleep: Sleep,
        rng: random.Random,
        tracer: trace.Tracer | None = None,
    ) -> None:
        missing = set(Country) - set(bureaus)
        if missing:
            raise ValueError(f"no bureau for {sorted(missing)}")
        self._bureaus = dict(bureaus)
        self._circuits = circuits
        self._retry = retry
        self._deadlines = deadlines
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._tracer = tracer or trace.get_tracer("bureau_gateway")

    async def credit_report(
        self, country: Country, document: str, consent_reference: str, *, time_left: float | None
    ) -> BureauReport:
        """The bureau's report on the holder of `document` (normalised), or a fallback report.

        `time_left` is the caller's remaining time, None when it set no deadline. Raises
        `ConsentMissing` without a consent reference.
        """
        if not consent_reference.strip():
            raise ConsentMissing("a bureau enquiry needs the applicant's consent")
        bureau = self._bureaus[country]
        breaker = self._circuits.breaker(country, bureau.provider)
        budget = self._deadlines.call_timeout
        if time_left is not None:
            budget = min(budget, time_left - self._deadlines.answer_margin)
        tally = _Tally()

        async def attempt(left: float) -> BureauReport:
            return await self._attempt(bureau, breaker, document, consent_reference, left, tally)

        reason: FallbackReason
        try:
            return await call_with_retries(
                attempt,
                policy=self._retry,
                budget=budget,
                is_transient=lambda error: isinstance(error, TransientBureauError),
                monotonic=self._clock.monotonic,
                sleep=self._sleep,
                rng=self._rng,
            )
        except _CircuitOpen:
            reason = FallbackReason.CIRCUIT_OPEN
        except TransientBureauError:
            reason = FallbackReason.RETRIES_EXHAUSTED
        except BureauRefused:
            # The applicant goes to a person rather than being decided on a refusal we cannot read.
            reason = FallbackReason.REFUSED
        except OutOfTime:
            reason = FallbackReason.NO_TIME
        return self._fallback(bureau, reason, tally.calls)

    async def _attempt(
        self,
        bureau: BureauClient,
        breaker: CircuitBreaker,
        document: str,
        consent_reference: str,
        left: float,
        tally: _Tally,
    ) -> BureauReport:
        permit = breaker.try_acquire()
        if permit is None:
            raise _CircuitOpen
        tally.calls += 1
        timeout = min(self._deadlines.attempt_timeout, left)
        # A timeout under a deadline the caller shortened says nothing about the bureau's health.
        cut_short = timeout < self._deadlines.attempt_timeout
        labels = (bureau.country.value, bureau.provider)
        with self._tracer.start_as_current_span(
            "bureau fetch",
            attributes={
                "bureau.country": bureau.country.value,
                "bureau.provider": bureau.provider,
                "bureau.attempt": tally.calls,
                "bureau.trial_call": permit.trial,
            },
            # An adapter's exception text is not ours to vet: a real client's could hold the document.
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            started = time.perf_counter()
            outcome: Outcome | None = None
            try:
                async with asyncio.timeout(timeout):
                    report = await bureau.fetch(document, consent_reference)
                outcome = Outcome.OK
                breaker.succeeded(permit)
                return report
            except (TimeoutError, BureauTimeout) as error:
                outcome = Outcome.TIMEOUT
                self._failed(breaker, permit, counts=not cut_short)
                raise BureauTimeout(f"{bureau.provider} did not answer within {timeout:.3f} s") from error
            except BureauUnavailable:
                outcome = Outcome.UNAVAILABLE
                self._failed(breaker, permit, counts=True)
                raise
            except BureauRefused:
                outcome = Outcome.REFUSED
                breaker.succeeded(permit)  # it answered: the bureau itself is up
                raise
            finally:
                if outcome is None:  # cancelled, or an unexpected error: no verdict on the bureau
                    breaker.abandoned(permit)
                else:
                    span.set_attribute("bureau.outcome", outcome.value)
                    if outcome is not Outcome.OK:
                        span.set_status(StatusCode.ERROR, outcome.value)
                    metrics.CALLS.labels(*labels, outcome.value).inc()
                    metrics.CALL_SECONDS.labels(*labels).observe(time.perf_counter() - started)

    @staticmethod
    def _failed(breaker: CircuitBreaker, permit: Permit, *, counts: bool) -> None:
        if counts:
            breaker.failed(permit)
        else:
            breaker.abandoned(permit)

    def _fallback(self, bureau: BureauClient, reason: FallbackReason, attempts: int) -> BureauReport:
        metrics.CALLS.labels(bureau.country.value, bureau.provider, Outcome.FALLBACK.value).inc()
        trace.get_current_span().set_attributes(
            {"bureau.fallback": True, "bureau.fallback_reason": reason.value, "bureau.attempts": attempts}
        )
        # While a circuit is open every call ends here; its opening was logged once already.
        level = logging.INFO if reason is FallbackReason.CIRCUIT_OPEN else logging.WARNING
        log.log(
            level,
            "bureau fallback",
            extra={
                "country": bureau.country.value,
                "provider": bureau.provider,
                "fallback_reason": reason.value,
                "attempts": attempts,
            },
        )
        return fallback_report(PROFILES[bureau.country], self._clock.now())
