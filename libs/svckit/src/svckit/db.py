"""PostgreSQL connection pools (asyncpg): prepared statements cached per connection, JSON decoded, and a
server-side statement timeout on every session."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from svckit.settings import DatabaseSettings

_SCHEMES = {"postgresql", "postgres", "postgresql+asyncpg"}

# Transient by nature: the server went away or is restarting; the same call may well succeed again.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    ConnectionError,
    OSError,
)


def libpq_url(url: str) -> str:
    """A `postgresql://` URL for asyncpg and libpq tools (accepts `postgres://` and SQLAlchemy's
    `postgresql+asyncpg://`)."""
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise ValueError(f"not a PostgreSQL URL (scheme {parts.scheme!r})")
    return urlunsplit(parts._replace(scheme="postgresql"))


def asyncpg_url(url: str) -> str:
    """The SQLAlchemy form (`postgresql+asyncpg://`), for tools built on SQLAlchemy such as Alembic."""
    return urlunsplit(urlsplit(libpq_url(url))._replace(scheme="postgresql+asyncpg"))


async def create_pool(
    source: DatabaseSettings | str,
    *,
    application_name: str,
    min_size: int | None = None,
    max_size: int | None = None,
    statement_timeout_ms: int | None = None,
) -> asyncpg.Pool:
    """An open pool for `source` (settings or a URL); explicit arguments override the settings.

    A connection that died with the server is dropped by the pool when its next call fails with one of
    `CONNECTION_ERRORS`, so a restarted PostgreSQL costs each pooled connection one failed call.
    """
    if isinstance(source, DatabaseSettings):
        url = source.database_url
        max_size = source.database_pool_size if max_size is None else max_size
        if statement_timeout_ms is None:
            statement_timeout_ms = source.database_statement_timeout_ms
    else:
        url = source
    max_size = 10 if max_size is None else max_size
    server_settings = {"application_name": application_name}
    if statement_timeout_ms:
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    pool = await asyncpg.create_pool(
        libpq_url(url),
        min_size=min(max_size, 2) if min_size is None else min_size,
        max_size=max_size,
        server_settings=server_settings,
        init=decode_json,
        reset=_keep_session,
    )
    assert pool is not None  # only None when asked not to connect
    return pool


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Skips asyncpg's reset query (RESET ALL, UNLISTEN *, unlock advisory locks…) on every release: a
    round trip per call that buys nothing here, since pooled connections keep no session state — no SET,
    LISTEN or advisory lock is ever taken on them. The pool still rolls back a transaction left open."""


async def decode_json(connection: asyncpg.Connection) -> None:
    """json and jsonb columns in and out as Python values rather than text."""
    for kind in ("json", "jsonb"):
        await connection.set_type_codec(kind, encoder=_dumps, decoder=json.loads, schema="pg_catalog")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
