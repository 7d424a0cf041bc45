"""bureau-gateway's own Prometheus metrics (the RPC metrics come from svckit). Labels are the country
and the bureau's name, never a document."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

from bureau_gateway.circuit import CircuitBoard, CircuitBreaker

CALLS = Counter(
    "bureau_calls_total",
    "Bureau calls by outcome: one per attempt (ok, timeout, unavailable, refused), plus one 'fallback' "
    "per fallback report answered.",
    ["country", "provider", "outcome"],
)
CALL_SECONDS = Histogram(
    "bureau_call_seconds",
    "Duration of each attempt to call a bureau, whatever its outcome.",
    ["country", "provider"],
    buckets=(0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.5),
)
CIRCUIT_STATE = Gauge(
    "bureau_circuit_state",
    "Circuit breaker state per bureau: 0 closed, 1 half-open, 2 open.",
    ["country", "provider"],
)


def export_circuits(board: CircuitBoard) -> None:
    """Make `bureau_circuit_state` read each breaker at scrape time, so an open circuit whose cool-down
    has ended shows half-open even when no call came to move it. One board per process: a later call
    replaces the earlier board's readings."""
    for breaker in board.breakers():
        CIRCUIT_STATE.labels(breaker.country.value, breaker.provider).set_function(_reader(breaker))


def _reader(breaker: CircuitBreaker) -> Callable[[], float]:
    return lambda: float(breaker.snapshot().state.value)
