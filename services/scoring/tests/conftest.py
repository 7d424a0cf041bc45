"""Fixtures for scoring's service tests: a token issuer, intake's schema migrated once, and per module a
`stack` — real intake and bureau-gateway servers on a database of the module's own — with, where a module
asks for it, one scoring server working on its jobs. The engine's unit tests need none of these.

A module changes the bureau's settings by overriding `bureau_overrides`:

    @pytest.fixture(scope="module")
    def bureau_overrides() -> dict[str, Any]:
        return {"circuit_failure_threshold": 1000}
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from scoring_harness import AUDIENCE, ISSUER, Stack, StartScoring, running_stack

from intake.migrate import migrate
from scoring.app import ScoringApp
from svckit.auth import TokenIssuer
from svckit.local.nats import LocalNats
from svckit.local.postgres import LocalPostgres

# Not intake's own template's name: both suites may run in one session, on one PostgreSQL.
TEMPLATE_DATABASE = "scoring_intake_template"


@pytest.fixture(scope="session")
def issuer() -> TokenIssuer:
    return TokenIssuer.generate(ISSUER, AUDIENCE, kid="scoring-test")


@pytest.fixture(scope="session")
async def intake_template(local_postgres: LocalPostgres) -> str:
    """Intake's schema, migrated once; each module's database is a copy (much faster than migrating)."""
    url = await asyncio.to_thread(local_postgres.create_database, TEMPLATE_DATABASE)
    await asyncio.to_thread(migrate, url)
    return url


@pytest.fixture(scope="module")
async def module_database(local_postgres: LocalPostgres, intake_template: str) -> str:
    name = f"scoring_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(local_postgres.database_url("postgres"))
    try:
        await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DATABASE}"')
    finally:
        await connection.close()
    return local_postgres.database_url(name)


@pytest.fixture(scope="module")
def bureau_overrides() -> dict[str, Any]:
    """Settings of the module's bureau-gateway beyond the harness's (`scoring_harness.BUREAU_SETTINGS`)."""
    return {}


@pytest.fixture(scope="module")
async def stack(
    module_database: str,
    local_nats: LocalNats,
    issuer: TokenIssuer,
    bureau_overrides: dict[str, Any],
) -> AsyncIterator[Stack]:
    """Intake and bureau-gateway for the module, with the jobs and dead-letter streams reset."""
    if not local_nats.running:
        local_nats.start()
    async with running_stack(module_database, local_nats.url, issuer, **bureau_overrides) as running:
        yield running


@pytest.fixture(scope="module")
async def scoring(stack: Stack) -> ScoringApp:
    """One scoring server and worker for the module's tests (stopped with the stack)."""
    app = await stack.start_scoring()
    await stack.wait_for_pullers(1)
    return app


@pytest.fixture
async def start_scoring(stack: Stack) -> AsyncIterator[StartScoring]:
    """`await start_scoring(**settings)`: a scoring server and worker of the test's own, stopped after it."""
    started: list[ScoringApp] = []

    async def start(**overrides: Any) -> ScoringApp:
        app = await stack.start_scoring(**overrides)
        started.append(app)
        return app

    yield start
    for app in reversed(started):
        await stack.stop_scoring(app)
