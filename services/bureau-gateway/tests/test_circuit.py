"""The circuit breaker's states and transitions, on a fake clock."""

from datetime import timedelta

import pytest
from bureau_gateway_harness import FakeClock

from bureau_gateway.bureaus import Country
from bureau_gateway.circuit import CircuitBoard, CircuitBreaker, CircuitState

COOL_DOWN = timedelta(seconds=10)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def transitions():
    return []


@pytest.fixture
def breaker(clock, transitions):
    return CircuitBreaker(
        Country.ES,
        "ASNEF",
        failure_threshold=3,
        cool_down=COOL_DOWN,
        clock=clock,
        on_transition=lambda snapshot, previous: transitions.append((previous, snapshot.state)),
    )


def fail(breaker, times=1):
    for _ in range(times):
        permit = breaker.try_acquire()
        assert permit is not None
        breaker.failed(permit)


def open_it(breaker):
    fail(breaker, 3)
    assert breaker.snapshot().state is CircuitState.OPEN


def test_a_new_circuit_is_closed_and_lets_calls_through(breaker, clock):
    snapshot = breaker.snapshot()
    assert (snapshot.state, snapshot.consecutive_failures) == (CircuitState.CLOSED, 0)
    assert snapshot.state_change_time == clock.now()
    assert breaker.try_acquire() is not None


def test_it_opens_after_the_threshold_of_consecutive_failures(breaker, clock, transitions):
    fail(breaker, 2)
    assert breaker.snapshot().state is CircuitState.CLOSED
    clock.advance(1)
    fail(breaker)
    snapshot = breaker.snapshot()
    assert (snapshot.state, snapshot.consecutive_failures) == (CircuitState.OPEN, 3)
    assert snapshot.state_change_time == clock.now()
    assert transitions == [(CircuitState.CLOSED, CircuitState.OPEN)]


def test_a_success_ends_the_streak(breaker):
    fail(breaker, 2)
    permit = breaker.try_acquire()
    breaker.succeeded(permit)
    assert breaker.snapshot().consecutive_failures == 0
    fail(breaker, 2)
    assert breaker.snapshot().state is CircuitState.CLOSED


def test_an_open_circuit_allows_no_call_until_the_cool_down_ends(breaker, clock):
    open_it(breaker)
    clock.advance(9.9)
    assert breaker.try_acquire() is None
    assert breaker.snapshot().state is CircuitState.OPEN


def test_it_half_opens_when_the_cool_down_ends_even_before_a_call(breaker, clock):
    open_it(breaker)
    opened = breaker.snapshot().state_change_time
    clock.advance(12)
    snapshot = breaker.snapshot()
    assert snapshot.state is CircuitState.HALF_OPEN
    assert snapshot.state_change_time == opened + COOL_DOWN


def test_half_open_lets_exactly_one_trial_call_through(breaker, clock):
    open_it(breaker)
    clock.advance(10)
    trial = breaker.try_acquire()
    assert trial is not None
    assert trial.trial
    assert breaker.try_acquire() is None


def test_a_successful_trial_closes_the_circuit(breaker, clock, transitions):
    open_it(breaker)
    clock.advance(10)
    breaker.succeeded(breaker.try_acquire())
    snapshot = breaker.snapshot()
    assert (snapshot.state, snapshot.consecutive_failures) == (CircuitState.CLOSED, 0)
    assert transitions == [
        (CircuitState.CLOSED, CircuitState.OPEN),
        (CircuitState.OPEN, CircuitState.HALF_OPEN),
        (CircuitState.HALF_OPEN, CircuitState.CLOSED),
    ]
    assert breaker.try_acquire() is not None


def test_a_failed_trial_opens_the_circuit_again_for_another_cool_down(breaker, clock):
    open_it(breaker)
    clock.advance(10)
    breaker.failed(breaker.try_acquire())
    snapshot = breaker.snapshot()
    assert (snapshot.state, snapshot.consecutive_failures) == (CircuitState.OPEN, 4)
    assert snapshot.state_change_time == clock.now()
    clock.advance(9)
    assert breaker.try_acquire() is None
    clock.advance(1)
    assert breaker.try_acquire() is not None


def test_an_abandoned_trial_lets_the_next_call_try(breaker, clock):
    open_it(breaker)
    clock.advance(10)
    breaker.abandoned(breaker.try_acquire())
    assert breaker.snapshot().state is CircuitState.HALF_OPEN
    assert breaker.try_acquire() is not None


def test_late_outcomes_of_calls_from_before_a_transition_are_ignored(breaker, clock):
    late = [breaker.try_acquire() for _ in range(5)]
    for permit in late[:3]:
        breaker.failed(permit)
    assert breaker.snapshot().state is CircuitState.OPEN
    breaker.succeeded(late[3])  # a slow success must not close a circuit that just opened
    breaker.failed(late[4])
    snapshot = breaker.snapshot()
    assert (snapshot.state, snapshot.consecutive_failures) == (CircuitState.OPEN, 3)


def test_the_board_lists_breakers_in_country_order(clock):
    board = CircuitBoard(
        CircuitBreaker(country, f"B{country}", failure_threshold=1, cool_down=COOL_DOWN, clock=clock)
        for country in reversed(Country)
    )
    assert [snapshot.country for snapshot in board.snapshots()] == list(Country)


def test_the_board_refuses_two_breakers_for_one_bureau(clock):
    def make():
        return CircuitBreaker(Country.ES, "ASNEF", failure_threshold=1, cool_down=COOL_DOWN, clock=clock)

    with pytest.raises(ValueError, match="two circuit breakers"):
        CircuitBoard([make(), make()])
