"""Time as the domain sees it, injectable so that circuit breakers, faults and retries are tested with a
fake clock and no real waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

Sleep = Callable[[float], Awaitable[None]]
"""`await sleep(seconds)`; `asyncio.sleep` outside tests."""


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never jumps: for durations and expiries."""
        ...

    def now(self) -> datetime:
        """The wall-clock time (UTC): for the times the API reports."""
        ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)


async def real_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)
