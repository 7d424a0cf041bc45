"""Retries: exponential backoff with full jitter, for transient failures only, within a budget."""

import random

import pytest
from bureau_gateway_harness import FakeClock, FakeSleep

from bureau_gateway.retry import OutOfTime, RetryPolicy, call_with_retries


class Transient(Exception):
    pass


class Permanent(Exception):
    pass


def test_backoff_is_drawn_between_zero_and_an_exponential_cap():
    policy = RetryPolicy(max_attempts=10, base_delay=0.05, max_delay=0.5)
    rng = random.Random(5)
    for retry, cap in [(1, 0.05), (2, 0.1), (3, 0.2), (4, 0.4), (5, 0.5), (9, 0.5)]:
        delays = [policy.backoff(retry, rng) for _ in range(500)]
        assert all(0 <= delay <= cap for delay in delays)
        assert max(delays) > cap * 0.9  # full jitter: the whole range is used...
        assert min(delays) < cap * 0.1  # ...from zero up


class Script:
    """Fails with each of `errors` in turn, then answers."""

    def __init__(self, *errors):
        self.errors = list(errors)
        self.attempts = 0
        self.time_left = []

    async def __call__(self, left):
        self.attempts += 1
        self.time_left.append(left)
        if self.errors:
            raise self.errors.pop(0)
        return "answer"


async def run(script, *, clock=None, attempts=3, budget=10.0):
    clock = clock or FakeClock()
    return await call_with_retries(
        script,
        policy=RetryPolicy(max_attempts=attempts, base_delay=0.1, max_delay=1.0),
        budget=budget,
        is_transient=lambda error: isinstance(error, Transient),
        monotonic=clock.monotonic,
        sleep=FakeSleep(clock),
        rng=random.Random(1),
    )


async def test_transient_failures_are_retried_until_an_answer():
    script = Script(Transient(), Transient())
    assert await run(script) == "answer"
    assert script.attempts == 3


async def test_the_last_transient_failure_is_raised_when_the_attempts_are_used_up():
    script = Script(Transient(), Transient(), Transient("third"), Transient())
    with pytest.raises(Transient, match="third"):
        await run(script)
    assert script.attempts == 3


async def test_a_permanent_failure_is_never_retried():
    script = Script(Permanent())
    with pytest.raises(Permanent):
        await run(script)
    assert script.attempts == 1


async def test_each_attempt_learns_the_time_left_in_the_budget():
    clock = FakeClock()
    script = Script(Transient())
    await run(script, clock=clock, budget=2.0)
    assert script.time_left[0] == 2.0
    assert script.time_left[1] < 2.0


async def test_no_retry_is_made_when_the_backoff_would_end_past_the_budget():
    clock = FakeClock()
    script = Script(Transient(), Transient())
    with pytest.raises(Transient):
        await run(script, clock=clock, budget=0.0001)
    assert script.attempts == 1


async def test_no_attempt_is_made_without_any_budget():
    script = Script()
    with pytest.raises(OutOfTime):
        await run(script, budget=0)
    assert script.attempts == 0
