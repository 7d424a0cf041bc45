"""Retries of transient failures, with exponential backoff and full jitter, within a time budget.

Full jitter (a delay drawn uniformly between zero and the exponential cap) spreads the retries of many
callers that failed together, so a bureau coming back is not met by a synchronised wave.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bureau_gateway.clock import Sleep

T = TypeVar("T")


class OutOfTime(Exception):
    """The budget ran out before an attempt could be made."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    """Attempts in all, the first included."""
    base_delay: float = 0.05
    """Cap of the first backoff, in seconds; it doubles after every retry."""
    max_delay: float = 0.5
    """No backoff exceeds this many seconds."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("backoff delays must not be negative")

    def backoff(self, retry: int, rng: random.Random) -> float:
        """The pause before retry number `retry` (1 for the first retry): uniform in [0, cap], the cap
        doubling from `base_delay` up to `max_delay`."""
        cap = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        return rng.uniform(0.0, cap)


async def call_with_retries(
    attempt: Callable[[float], Awaitable[T]],
    *,
    policy: RetryPolicy,
    budget: float,
    is_transient: Callable[[BaseException], bool],
    monotonic: Callable[[], float],
    sleep: Sleep,
    rng: random.Random,
) -> T:
    """`await attempt(time_left)` until it returns, retrying transient failures only.

    Gives up, raising the last failure, when the attempts are used up or when the next backoff would
    end past the budget; a permanent failure is raised at once. Raises `OutOfTime` when not even the
    first attempt fits in the budget.
    """
    deadline = monotonic() + budget
    number = 1
    while True:
        left = deadline - monotonic()
        if left <= 0:
            raise OutOfTime("no time left for a bureau call")
        try:
            return await attempt(left)
        except Exception as error:
            if not is_transient(error) or number >= policy.max_attempts:
                raise
            delay = policy.backoff(number, rng)
            if monotonic() + delay >= deadline:
                raise  # better a fallback now than one after an attempt with no time to answer
        await sleep(delay)
        number += 1
