"""Waiting in tests for what happens asynchronously (an event delivered, a metric recorded, a status
reached): poll with a deadline, never sleep a guessed time."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

Condition = Callable[[], object | Awaitable[object]]

FIRST_INTERVAL = 0.005
LONGEST_INTERVAL = 0.1


async def eventually(condition: Condition, within: float = 10.0, *, what: str = "the condition") -> Any:
    """Call `condition` (plain or async) until it returns something truthy, and return that; fail after
    `within` seconds, naming `what` and the last value seen. Polls often at first (most effects land
    within milliseconds), then every 0.1 s."""
    deadline = time.monotonic() + within
    interval = FIRST_INTERVAL
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within:g} s (last value: {value!r})")
        await asyncio.sleep(interval)
        interval = min(interval * 1.5, LONGEST_INTERVAL)
