"""Pytest configuration for the whole repository: fixtures that start real PostgreSQL and NATS servers."""

pytest_plugins = ["svckit.testing.pytest_plugin"]
