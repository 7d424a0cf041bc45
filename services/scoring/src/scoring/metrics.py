"""Scoring's Prometheus metrics (the RPC and consumer metrics come from svckit). Low-cardinality labels,
no PII."""

from prometheus_client import Counter, Gauge, Histogram

DECISIONS = Counter(
    "scoring_decisions_total",
    "Decisions recorded by the pipeline, by country and outcome.",
    ["country", "outcome"],
)
SUBMIT_TO_DECISION = Histogram(
    "scoring_submit_to_decision_seconds",
    "From an application's creation to its decision being recorded in intake.",
    ["country"],
    buckets=(0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
JOBS = Counter(
    "scoring_jobs_total",
    "Scoring jobs finished, by result: decided, over (the application had moved on), dead_lettered.",
    ["result"],
)
DEAD_LETTERS = Counter(
    "scoring_dead_letters_total", "Jobs given up and dead-lettered, by reason.", ["reason"]
)

# The job consumer's lag, read from JetStream every few seconds. Every replica reads the same durable
# consumer, so replicas report the same numbers: aggregate them with max(), never sum().
JOBS_PENDING = Gauge(
    "scoring_jobs_pending",
    "Jobs stored in JetStream that the scoring-jobs consumer has not delivered to any replica yet "
    "(its num_pending).",
)
JOBS_ACK_PENDING = Gauge(
    "scoring_jobs_ack_pending",
    "Jobs delivered to a replica and not acknowledged yet: in progress, or waiting to be delivered again "
    "after a failure (the scoring-jobs consumer's num_ack_pending).",
)
JOBS_LAG_READ = Gauge(
    "scoring_jobs_lag_read_timestamp_seconds",
    "When scoring_jobs_pending and scoring_jobs_ack_pending were last read from JetStream (Unix time); "
    "it stops moving while JetStream does not answer.",
)
