"""The session fixtures of svckit.testing: real servers, fresh databases, NATS back after a test stops it."""

from __future__ import annotations

import asyncpg
import nats

from svckit.local import LocalNats, LocalPostgres
from svckit.testing import FreshDatabase


async def test_postgres_url_names_a_database_of_the_session_server(
    local_postgres: LocalPostgres, postgres_url: str
) -> None:
    connection = await asyncpg.connect(postgres_url)
    try:
        assert await connection.fetchval("SELECT current_database()") == "session_tests"
        assert await connection.fetchval("SHOW fsync") == "off"
    finally:
        await connection.close()
    assert postgres_url.startswith(f"postgresql://postgres@127.0.0.1:{local_postgres.port}/")


async def test_fresh_database_gives_a_new_empty_database_each_time(fresh_database: FreshDatabase) -> None:
    first, second = await fresh_database(), await fresh_database()

    assert first != second
    connection = await asyncpg.connect(first)
    try:
        tables = await connection.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
        assert tables == 0
    finally:
        await connection.close()


async def test_a_test_may_stop_the_session_nats(local_nats: LocalNats, nats_url: str) -> None:
    client = await nats.connect(nats_url)
    await client.jetstream().add_stream(name="FIXTURE", subjects=["fixture.>"])
    await client.close()

    local_nats.stop()

    assert not local_nats.running


async def test_nats_url_hands_the_next_test_a_running_server(local_nats: LocalNats, nats_url: str) -> None:
    """Runs after the test above (pytest keeps file order), which left NATS stopped."""
    assert local_nats.running
    client = await nats.connect(nats_url)
    try:
        streams = await client.jetstream().streams_info()
        assert "FIXTURE" in {stream.config.name for stream in streams}  # the store survived the stop
    finally:
        await client.close()
