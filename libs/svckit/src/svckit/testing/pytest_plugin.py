"""Pytest fixtures that start a real PostgreSQL and a real NATS (JetStream) once per session.

Load it from the repository's root `conftest.py` with `pytest_plugins = ["svckit.testing.pytest_plugin"]`.

- `local_postgres` (session): a `LocalPostgres` with durability off (fsync, synchronous_commit,
  full_page_writes), data in a temporary directory the `postgres` OS user can reach when we are root.
- `postgres_url` (session): the URL of a database created for the session.
- `fresh_database` (factory): `await fresh_database()` creates an empty database and returns its URL.
- `local_nats` (session): a `LocalNats`; tests may stop, kill or restart it.
- `nats_url` (per test): its URL, after starting it again if an earlier test left it stopped.
- `reachable_tmp_path` (per test): a temporary directory that other OS users may enter, for tests that
  start their own PostgreSQL (pytest's `tmp_path` is private to us, and PostgreSQL runs as `postgres`
  when we are root).

Everything is stopped by PID at the end of the session; logs stay in pytest's temporary directory.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from svckit.local.nats import LocalNats
from svckit.local.postgres import LocalPostgres

FAST_POSTGRES_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
"""Durability the tests do not need: a crash of a test server loses nothing anyone wants back."""

FreshDatabase = Callable[[], Awaitable[str]]
"""The type of the `fresh_database` fixture: `await fresh_database()` → URL of a new empty database."""


@pytest.fixture(scope="session")
def local_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPostgres]:
    """A PostgreSQL server for the whole session, on a free port."""
    logs = tmp_path_factory.mktemp("postgres")
    data_root = _reachable_temp_dir("svckit-postgres-")
    server = LocalPostgres(
        data_root / "data", settings=FAST_POSTGRES_SETTINGS, log_file=logs / "postgres.log"
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(data_root, ignore_errors=True)


@pytest.fixture
def reachable_tmp_path() -> Iterator[Path]:
    """A temporary directory other OS users may enter (not list), removed after the test."""
    path = _reachable_temp_dir("svckit-test-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(local_postgres: LocalPostgres) -> str:
    """The URL of a database created once for the session."""
    return local_postgres.create_database("session_tests")


@pytest.fixture
def fresh_database(local_postgres: LocalPostgres) -> FreshDatabase:
    """A factory: `await fresh_database()` returns the URL of a new, empty database."""

    async def create() -> str:
        name = f"test_{uuid.uuid4().hex[:16]}"
        return await asyncio.to_thread(local_postgres.create_database, name)

    return create


@pytest.fixture(scope="session")
def local_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNats]:
    """A NATS server with JetStream for the whole session, on a free port."""
    directory = tmp_path_factory.mktemp("nats")
    server = LocalNats(directory / "store", name="svckit-tests", log_file=directory / "nats.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def nats_url(local_nats: LocalNats) -> str:
    """The session's NATS URL, the server running (started again if an earlier test stopped it)."""
    if not local_nats.running:
        local_nats.start()
    return local_nats.url


def _reachable_temp_dir(prefix: str) -> Path:
    # pytest's temporary directories are private to us (0700); when we are root, PostgreSQL runs as the
    # `postgres` OS user, which must be able to pass through to its data directory.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o711)
    return path
