"""Brings intake's database schema to the newest revision (Alembic), or back to an older one."""

from pathlib import Path
from typing import Any

from alembic import command, op
from alembic.config import Config

from svckit.db import asyncpg_url


def migrate(database_url: str, revision: str = "head") -> None:
    """Upgrades the schema; blocking (Alembic runs its own event loop), so call it off the loop."""
    command.upgrade(_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    """Downgrades the schema (to nothing by default); blocking, like `migrate`."""
    command.downgrade(_config(database_url), revision)


def _config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["database_url"] = asyncpg_url(database_url)
    return config


def execute_script(script: str) -> None:
    """Runs a whole SQL script inside a migration. asyncpg prepares each statement, and a prepared
    statement holds one command; its plain execute() runs a script (the triggers' bodies hold semicolons,
    so splitting is not an option)."""
    # With an asyncio driver the DB-API connection is SQLAlchemy's AdaptedConnection.
    connection: Any = op.get_bind().connection.dbapi_connection
    connection.run_async(lambda driver: driver.execute(script))
