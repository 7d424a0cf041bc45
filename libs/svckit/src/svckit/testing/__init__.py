"""Test support: a pytest plugin that starts real PostgreSQL and NATS once per session, on free ports."""

from svckit.testing.pytest_plugin import FAST_POSTGRES_SETTINGS, FreshDatabase

__all__ = ["FAST_POSTGRES_SETTINGS", "FreshDatabase"]
