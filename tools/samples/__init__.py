"""Valid sample data for tests, benchmarks and demonstrations: identity documents that pass each
country's checks, and well-formed CreateApplication requests."""
