"""Scoring's Prometheus metrics (the RPC and consumer metrics come from svckit). Low-cardinality labels,
no PII."""

from prometheus_client import Counter, Histogram

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
