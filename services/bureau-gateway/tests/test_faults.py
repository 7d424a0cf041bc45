"""Injected faults: one per country, replaced by the next, cleared by NONE, gone when they expire."""

from datetime import timedelta

from bureau_gateway_harness import FakeClock

from bureau_gateway.bureaus import Country
from bureau_gateway.faults import FaultBoard, FaultKind, FaultSpec


def test_a_fault_lasts_until_cleared_when_it_has_no_duration():
    clock = FakeClock()
    board = FaultBoard(clock)
    fault = board.inject(Country.ES, FaultSpec(FaultKind.OUTAGE))
    assert fault is not None
    assert fault.expire_time is None
    clock.advance(86_400)
    assert board.active(Country.ES) == FaultSpec(FaultKind.OUTAGE)
    assert board.inject(Country.ES, FaultSpec(FaultKind.NONE)) is None
    assert board.active(Country.ES) is None


def test_a_fault_with_a_duration_expires_and_says_when():
    clock = FakeClock()
    board = FaultBoard(clock)
    fault = board.inject(Country.MX, FaultSpec(FaultKind.TIMEOUT, duration=timedelta(seconds=30)))
    assert fault.expire_time == clock.now() + timedelta(seconds=30)
    clock.advance(29.9)
    assert board.active(Country.MX) is not None
    clock.advance(0.1)
    assert board.active(Country.MX) is None


def test_a_new_fault_replaces_the_countrys_earlier_one_and_no_other():
    board = FaultBoard(FakeClock())
    board.inject(Country.ES, FaultSpec(FaultKind.OUTAGE))
    board.inject(Country.PT, FaultSpec(FaultKind.OUTAGE))
    board.inject(Country.ES, FaultSpec(FaultKind.FLAKY, failure_rate=0.5))
    assert board.active(Country.ES) == FaultSpec(FaultKind.FLAKY, failure_rate=0.5)
    assert board.active(Country.PT) == FaultSpec(FaultKind.OUTAGE)
    assert board.active(Country.IT) is None
