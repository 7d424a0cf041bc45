"""URL handling for the engine (the engine against real PostgreSQL is covered by the services' tests)."""

from __future__ import annotations

import pytest

from svckit.db import asyncpg_url, create_engine
from svckit.settings import DatabaseSettings


@pytest.mark.parametrize(
    "url",
    ["postgresql://u:p@db:5433/app", "postgres://u:p@db:5433/app", "postgresql+asyncpg://u:p@db:5433/app"],
)
def test_postgres_urls_become_asyncpg_urls(url: str) -> None:
    converted = asyncpg_url(url)

    assert converted.drivername == "postgresql+asyncpg"
    assert (converted.host, converted.port, converted.database) == ("db", 5433, "app")
    assert converted.password == "p"


def test_sslmode_becomes_asyncpg_ssl() -> None:
    converted = asyncpg_url("postgresql://db/app?sslmode=require")

    assert dict(converted.query) == {"ssl": "require"}


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        asyncpg_url("mysql://db/app")


async def test_the_engine_takes_pool_and_timeouts_from_settings() -> None:
    settings = DatabaseSettings(
        database_url="postgresql://u:p@127.0.0.1:1/app",
        database_pool_size=3,
        database_statement_timeout_ms=750,
    )

    engine = create_engine(settings, application_name="svckit-test")
    try:
        assert engine.url.drivername == "postgresql+asyncpg"
        assert engine.pool.size() == 3  # type: ignore[attr-defined]
    finally:
        await engine.dispose()
