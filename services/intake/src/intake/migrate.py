"""Brings intake's database schema to the newest revision (Alembic)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from svckit.db import asyncpg_url


def migrate(database_url: str, revision: str = "head") -> None:
    """Upgrades the schema; blocking (Alembic runs its own event loop), so call it off the loop."""
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["database_url"] = asyncpg_url(database_url)
    command.upgrade(config, revision)
