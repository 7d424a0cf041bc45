"""The PostgreSQL engine: SQLAlchemy asyncio over asyncpg, with a server-side statement timeout."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from svckit.settings import DatabaseSettings

_DRIVERS = {"postgresql", "postgres", "postgresql+asyncpg"}

# libpq's sslmode spelled as asyncpg's `ssl` argument (asyncpg rejects `sslmode` as a keyword).
_SSLMODES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}


def asyncpg_url(url: str | URL) -> URL:
    """`postgresql://…` (or `postgres://`) as the `postgresql+asyncpg://…` URL SQLAlchemy wants."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.drivername not in _DRIVERS:
        raise ValueError(f"not a PostgreSQL URL (driver {parsed.drivername!r})")
    query = dict(parsed.query)
    sslmode = query.pop("sslmode", None)
    if isinstance(sslmode, str):
        if sslmode not in _SSLMODES:
            raise ValueError(f"unknown sslmode {sslmode!r}")
        query["ssl"] = sslmode
    return parsed.set(drivername="postgresql+asyncpg", query=query)


def create_engine(
    source: DatabaseSettings | str | URL,
    *,
    application_name: str,
    pool_size: int | None = None,
    max_overflow: int | None = None,
    statement_timeout_ms: int | None = None,
) -> AsyncEngine:
    """An async engine for `source` (settings or a URL); explicit arguments override the settings.

    Connections are checked before use (`pool_pre_ping`), so a restarted PostgreSQL costs one retry rather
    than a failed request; `statement_timeout` stops a runaway query on the server, not just the client.
    """
    if isinstance(source, DatabaseSettings):
        url: str | URL = source.database_url
        pool_size = source.database_pool_size if pool_size is None else pool_size
        max_overflow = source.database_max_overflow if max_overflow is None else max_overflow
        if statement_timeout_ms is None:
            statement_timeout_ms = source.database_statement_timeout_ms
    else:
        url = source
    server_settings = {"application_name": application_name}
    if statement_timeout_ms:
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    return create_async_engine(
        asyncpg_url(url),
        pool_size=10 if pool_size is None else pool_size,
        max_overflow=10 if max_overflow is None else max_overflow,
        pool_pre_ping=True,
        connect_args={"server_settings": server_settings},
    )
