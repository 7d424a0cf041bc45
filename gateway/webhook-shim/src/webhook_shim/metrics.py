"""The shim's Prometheus metrics: deliveries by outcome and their latency. Labels are outcomes only, never
an application, a bank reference or a webhook id."""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import Counter, Gauge, Histogram

from svckit.metrics import LATENCY_BUCKETS


class Outcome(StrEnum):
    """What became of a delivery: the `outcome` label."""

    ACCEPTED = "accepted"
    """Recorded by intake (or a redelivery of a recorded one: intake answers both alike)."""
    BAD_HEADERS = "bad_headers"
    BAD_SIGNATURE = "bad_signature"
    STALE_TIMESTAMP = "stale_timestamp"
    """Signed by the bank, but more than the tolerance from now: a replay, or a clock adrift."""
    TOO_LARGE = "too_large"
    INVALID = "invalid"
    """Malformed JSON, or fields refused by the shim or by intake."""
    UNKNOWN_APPLICATION = "unknown_application"
    WEBHOOK_ID_REUSED = "webhook_id_reused"
    PRECONDITION_FAILED = "precondition_failed"
    INTAKE_UNAVAILABLE = "intake_unavailable"
    """Intake down, slow or overloaded: answered 503 so the bank delivers again later."""
    INTAKE_ERROR = "intake_error"
    """Intake refused the shim itself (its token, its role) or failed: an operator must look."""
    ERROR = "error"
    """A bug in the shim."""


DELIVERIES = Counter("webhook_deliveries", "Bank webhook deliveries received, by outcome.", ["outcome"])
DELIVERY_SECONDS = Histogram(
    "webhook_delivery_duration_seconds",
    "Time from receiving a delivery's headers to answering it, in seconds, by outcome.",
    ["outcome"],
    buckets=LATENCY_BUCKETS,
)
IN_FLIGHT = Gauge("webhook_deliveries_in_flight", "Deliveries being handled right now.")

# Every outcome exists from the start at zero, so rates and alerts work before the first failure.
for _outcome in Outcome:
    DELIVERIES.labels(_outcome.value)
    DELIVERY_SECONDS.labels(_outcome.value)


def record(outcome: Outcome, seconds: float) -> None:
    DELIVERIES.labels(outcome.value).inc()
    DELIVERY_SECONDS.labels(outcome.value).observe(seconds)
