"""Intake's own Prometheus metrics (the RPC metrics come from svckit). Labels are low-cardinality and
never carry PII."""

from prometheus_client import Counter, Gauge, Histogram

APPLICATIONS_CREATED = Counter(
    "intake_applications_created_total", "Applications accepted, by country.", ["country"]
)
OUTBOX_PUBLISHED = Counter("intake_outbox_published_total", "Outbox events acknowledged by JetStream.")
OUTBOX_PUBLISH_LAG = Histogram(
    "intake_outbox_publish_lag_seconds",
    "From an event's commit to JetStream's acknowledgement.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
OUTBOX_BACKLOG = Gauge("intake_outbox_backlog_events", "Outbox events not yet acknowledged by JetStream.")
OUTBOX_OLDEST_AGE = Gauge(
    "intake_outbox_oldest_event_age_seconds", "Age of the oldest outbox event not yet acknowledged."
)
