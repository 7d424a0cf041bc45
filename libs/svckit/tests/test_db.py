"""Database URLs and pools; the pool against real PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from svckit.db import asyncpg_url, create_pool, libpq_url
from svckit.settings import DatabaseSettings


@pytest.mark.parametrize(
    "url",
    ["postgresql://u:p@db:5433/app", "postgres://u:p@db:5433/app", "postgresql+asyncpg://u:p@db:5433/app"],
)
def test_postgres_urls_become_libpq_and_sqlalchemy_urls(url: str) -> None:
    assert libpq_url(url) == "postgresql://u:p@db:5433/app"
    assert asyncpg_url(url) == "postgresql+asyncpg://u:p@db:5433/app"


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        libpq_url("mysql://db/app")


async def test_the_pool_applies_the_settings_and_decodes_json(postgres_url: str) -> None:
    settings = DatabaseSettings(
        database_url=postgres_url, database_pool_size=3, database_statement_timeout_ms=750
    )
    pool = await create_pool(settings, application_name="svckit-test")
    try:
        async with pool.acquire() as connection:
            assert await connection.fetchval("SHOW statement_timeout") == "750ms"
            assert await connection.fetchval("SHOW application_name") == "svckit-test"
            value = await connection.fetchval("""SELECT '{"a": [1, "2.50"]}'::jsonb""")
            assert value == {"a": [1, "2.50"]}
            assert await connection.fetchval("SELECT 12.30::numeric(14,2)") == Decimal("12.30")
        assert pool.get_max_size() == 3
    finally:
        await pool.close()
