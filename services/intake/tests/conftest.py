"""Fixtures for intake's integration and API tests: a migrated database per test (copied from a template
migrated once), a real intake server on a free port with its outbox relay, and clients per role."""

import os
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from intake_harness import AUDIENCE, ISSUER, RunningIntake, running_intake, settings_for

from intake.migrate import migrate
from intake.pii import Keyring, PiiCipher
from intake.settings import IntakeSettings
from svckit.auth import TokenIssuer
from svckit.local.nats import LocalNats
from svckit.local.postgres import LocalPostgres
from svckit.testing import polling

TEMPLATE_DATABASE = "intake_template"


@pytest.fixture(scope="session")
def issuer() -> TokenIssuer:
    return TokenIssuer.generate(ISSUER, AUDIENCE, kid="test")


@pytest.fixture(scope="session")
def keyring() -> Keyring:
    return Keyring(current_key_id="test-1", keys={"test-1": os.urandom(32)}, blind_index_key=os.urandom(32))


@pytest.fixture(scope="session")
def cipher(keyring: Keyring) -> PiiCipher:
    return PiiCipher(keyring)


@pytest.fixture(scope="session")
def intake_template(local_postgres: LocalPostgres) -> str:
    """A database migrated once; each test gets a copy, which is much faster than migrating."""
    url = local_postgres.create_database(TEMPLATE_DATABASE)
    migrate(url)
    return url


@pytest.fixture
async def database_url(local_postgres: LocalPostgres, intake_template: str) -> str:
    return await copy_template(local_postgres)


async def copy_template(local_postgres: LocalPostgres) -> str:
    """A new database copied from the migrated template."""
    name = f"intake_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(local_postgres.database_url("postgres"))
    try:
        await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DATABASE}"')
    finally:
        await connection.close()
    return local_postgres.database_url(name)


@pytest.fixture
def intake_settings(
    database_url: str, nats_url: str, issuer: TokenIssuer, keyring: Keyring
) -> Callable[[], IntakeSettings]:
    return lambda: settings_for(database_url, nats_url, issuer, keyring)


@pytest.fixture
async def intake(
    intake_settings: Callable[[], IntakeSettings], issuer: TokenIssuer
) -> AsyncIterator[RunningIntake]:
    """A running intake on its own fresh database."""
    async with running_intake(intake_settings(), issuer) as running:
        yield running


@pytest.fixture(scope="module")
async def shared_intake(
    local_postgres: LocalPostgres,
    local_nats: LocalNats,
    intake_template: str,
    issuer: TokenIssuer,
    keyring: Keyring,
) -> AsyncIterator[RunningIntake]:
    """One running intake for a whole module, for tests that only add independent applications."""
    database_url = await copy_template(local_postgres)
    if not local_nats.running:
        local_nats.start()
    async with running_intake(settings_for(database_url, local_nats.url, issuer, keyring), issuer) as running:
        yield running


Condition = Callable[[], object | Awaitable[object]]
Eventually = Callable[..., Awaitable[object]]


@pytest.fixture(scope="session")
def eventually() -> Eventually:
    """`await eventually(lambda: ..., within)`: poll a condition with a deadline instead of sleeping."""
    return polling.eventually


@pytest.fixture
def rng() -> random.Random:
    """Random sample data: each run tries other applicants."""
    return random.Random()
