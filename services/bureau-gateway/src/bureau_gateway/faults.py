"""Faults injected into the simulated bureaus on purpose (InjectFault): one per country at most, until
cleared or until it expires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bureau_gateway.bureaus import Country
from bureau_gateway.clock import Clock


class FaultKind(StrEnum):
    NONE = "NONE"
    """No fault: clears the country's fault."""
    TIMEOUT = "TIMEOUT"
    """Every call hangs past its deadline."""
    OUTAGE = "OUTAGE"
    """Every call fails at once, as if the bureau refused connections."""
    FLAKY = "FLAKY"
    """A share of calls fails with a transient error (rate 0 with added latency: merely slow)."""


@dataclass(frozen=True)
class FaultSpec:
    """What to inject; ranges are checked by whoever builds one from a request."""

    kind: FaultKind
    failure_rate: float = 0.0
    added_latency: timedelta = timedelta(0)
    duration: timedelta | None = None
    """None: until cleared."""


@dataclass(frozen=True)
class ActiveFault:
    spec: FaultSpec
    expires_at: float | None
    """On the clock's monotonic scale; None: until cleared."""
    expire_time: datetime | None
    """The same instant on the wall clock, for the answer."""


class FaultBoard:
    """The fault in force for each country. Setting one replaces the country's earlier fault."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._faults: dict[Country, ActiveFault] = {}

    def inject(self, country: Country, spec: FaultSpec) -> ActiveFault | None:
        """Put `spec` in force for `country` (kind NONE clears it); returns what is now in force."""
        if spec.kind is FaultKind.NONE:
            self._faults.pop(country, None)
            return None
        expires_at = expire_time = None
        if spec.duration is not None:
            expires_at = self._clock.monotonic() + spec.duration.total_seconds()
            expire_time = self._clock.now() + spec.duration
        fault = ActiveFault(spec=spec, expires_at=expires_at, expire_time=expire_time)
        self._faults[country] = fault
        return fault

    def active(self, country: Country) -> FaultSpec | None:
        """The fault in force for `country` now, if any; an expired one is forgotten."""
        fault = self._faults.get(country)
        if fault is None:
            return None
        if fault.expires_at is not None and self._clock.monotonic() >= fault.expires_at:
            # Only drop the fault we read: a concurrent inject may have replaced it meanwhile.
            if self._faults.get(country) is fault:
                del self._faults[country]
            return None
        return fault.spec

    def clear_all(self) -> None:
        self._faults.clear()
