"""Circuit breakers, one per (country, bureau): closed -> open after N consecutive failures -> half-open
after a cool-down -> one trial call -> closed on success, open again on failure. While open no call
is made, so a bureau that is down is not hammered and callers get their fallback at once.

Time comes from an injected `Clock`, so every transition is tested without waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from bureau_gateway.bureaus import Country
from bureau_gateway.clock import Clock

log = logging.getLogger(__name__)


class CircuitState(Enum):
    """The values are what the `bureau_circuit_state` gauge exports."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


@dataclass(frozen=True)
class CircuitSnapshot:
    country: Country
    provider: str
    state: CircuitState
    consecutive_failures: int
    state_change_time: datetime


@dataclass(frozen=True)
class _Record:
    """The breaker's whole state, replaced in one assignment, so that a reader on another thread (the
    metrics endpoint) never sees half of a transition."""

    state: CircuitState
    consecutive_failures: int
    changed_at: float  # monotonic
    changed_time: datetime  # wall clock
    epoch: int  # bumped on every transition
    trial_in_flight: bool = False


@dataclass(frozen=True)
class Permit:
    """Leave to make one call. Hand it back with `succeeded`, `failed` or `abandoned`."""

    epoch: int
    trial: bool


StateListener = Callable[[CircuitSnapshot, CircuitState], None]
"""Called after a transition with the new snapshot and the state it left."""


class CircuitBreaker:
    def __init__(
        self,
        country: Country,
        provider: str,
        *,
        failure_threshold: int,
        cool_down: timedelta,
        clock: Clock,
        on_transition: StateListener | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if cool_down <= timedelta(0):
            raise ValueError("cool_down must be positive")
        self.country = country
        self.provider = provider
        self._threshold = failure_threshold
        self._cool_down = cool_down
        self._clock = clock
        self._on_transition = on_transition
        self._record = _Record(CircuitState.CLOSED, 0, clock.monotonic(), clock.now(), epoch=0)

    def snapshot(self) -> CircuitSnapshot:
        """The state as of now, without changing anything (safe from any thread).

        An open circuit whose cool-down has passed reads as half-open from the moment the cool-down
        ended, although the breaker only moves there when the next call asks."""
        record = self._effective(self._record)
        return CircuitSnapshot(
            country=self.country,
            provider=self.provider,
            state=record.state,
            consecutive_failures=record.consecutive_failures,
            state_change_time=record.changed_time,
        )

    def try_acquire(self) -> Permit | None:
        """A permit to call the bureau, or None when no call may be made now (open, or half-open with
        its one trial call already under way)."""
        record = self._effective(self._record)
        if record is not self._record:
            self._move(record)
        if record.state is CircuitState.CLOSED:
            return Permit(record.epoch, trial=False)
        if record.state is CircuitState.HALF_OPEN and not record.trial_in_flight:
            self._record = replace(record, trial_in_flight=True)
            return Permit(record.epoch, trial=True)
        return None

    def succeeded(self, permit: Permit) -> None:
        """The bureau answered: the failure streak ends; a successful trial closes the circuit."""
        record = self._record
        if permit.epoch != record.epoch:
            return  # a call from before the last transition says nothing about the bureau now
        if permit.trial:
            self._move(self._transition(record, CircuitState.CLOSED, failures=0))
        elif record.consecutive_failures:
            self._record = replace(record, consecutive_failures=0)

    def failed(self, permit: Permit) -> None:
        """The bureau failed transiently: one more in the streak; enough of them, or a failed trial,
        open the circuit."""
        record = self._record
        if permit.epoch != record.epoch:
            return
        failures = record.consecutive_failures + 1
        if permit.trial or failures >= self._threshold:
            self._move(self._transition(record, CircuitState.OPEN, failures=failures))
        else:
            self._record = replace(record, consecutive_failures=failures)

    def abandoned(self, permit: Permit) -> None:
        """The call ended without a verdict on the bureau (cancelled, or cut short by the caller's own
        deadline): a trial's slot is freed so that the next call can try."""
        record = self._record
        if permit.trial and permit.epoch == record.epoch and record.trial_in_flight:
            self._record = replace(record, trial_in_flight=False)

    def _effective(self, record: _Record) -> _Record:
        if record.state is CircuitState.OPEN:
            cool_down = self._cool_down.total_seconds()
            if self._clock.monotonic() >= record.changed_at + cool_down:
                # Stamped at the end of the cool-down, not when someone noticed, so that every reader
                # sees the same change time.
                return _Record(
                    CircuitState.HALF_OPEN,
                    record.consecutive_failures,
                    record.changed_at + cool_down,
                    record.changed_time + self._cool_down,
                    epoch=record.epoch + 1,
                )
        return record

    def _transition(self, record: _Record, state: CircuitState, *, failures: int) -> _Record:
        return _Record(state, failures, self._clock.monotonic(), self._clock.now(), epoch=record.epoch + 1)

    def _move(self, record: _Record) -> None:
        previous = self._record.state
        self._record = record
        if record.state is previous:
            return
        snapshot = self.snapshot()
        level = logging.WARNING if record.state is CircuitState.OPEN else logging.INFO
        log.log(
            level,
            "circuit %s",
            record.state.name.lower().replace("_", "-"),
            extra={
                "country": self.country.value,
                "provider": self.provider,
                "from_state": previous.name,
                "consecutive_failures": record.consecutive_failures,
            },
        )
        if self._on_transition is not None:
            self._on_transition(snapshot, previous)


class CircuitBoard:
    """Every breaker, one per (country, provider)."""

    def __init__(self, breakers: Iterable[CircuitBreaker]) -> None:
        self._breakers: dict[tuple[Country, str], CircuitBreaker] = {}
        for breaker in breakers:
            key = (breaker.country, breaker.provider)
            if key in self._breakers:
                raise ValueError(f"two circuit breakers for {key}")
            self._breakers[key] = breaker

    def breaker(self, country: Country, provider: str) -> CircuitBreaker:
        return self._breakers[(country, provider)]

    def breakers(self) -> list[CircuitBreaker]:
        """In `Country` order."""
        order = list(Country)
        return sorted(self._breakers.values(), key=lambda b: (order.index(b.country), b.provider))

    def snapshots(self) -> list[CircuitSnapshot]:
        return [breaker.snapshot() for breaker in self.breakers()]
