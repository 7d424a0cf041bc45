"""The relay's own connection to the outbox table: the leadership lock, the NOTIFY wake-ups, reading and
stamping events. The SQL side of `intake.outbox`, which itself knows no SQL."""

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from intake.records import OutboxEvent
from intake.repository import DatabaseUnavailable
from svckit.db import decode_json, libpq_url


class Outbox:
    """The relay's own connection to the outbox: it holds the leadership lock, hears the NOTIFY that
    every committed event sends, and reads and stamps events.

    Only the replica holding the session-level advisory lock relays, so an application's events leave
    in the order they were written. The lock goes with the connection: if it drops, another replica
    takes over.
    """

    CHANNEL = "intake_outbox"
    LOCK_KEY = 7_236_838_217_445_013_876  # any constant shared by every replica of intake

    def __init__(self, database_url: str) -> None:
        self._dsn = libpq_url(database_url)
        self._connection: asyncpg.Connection | None = None
        self._woken = asyncio.Event()

    @property
    def held(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    async def acquire(self) -> bool:
        """Tries once to become the relaying replica; True when this one is."""
        await self.release()
        # Stamping events published need not wait for the disk: a stamp lost in a crash only republishes
        # the events, and JetStream drops a message id it has already stored.
        connection = await asyncpg.connect(
            self._dsn,
            server_settings={"application_name": "intake-outbox-relay", "synchronous_commit": "off"},
        )
        try:
            if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", self.LOCK_KEY):
                await connection.close()
                return False
            await decode_json(connection)
            await connection.add_listener(self.CHANNEL, self._notified)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self._woken.set()  # look at once: events may have been written while nobody relayed
        return True

    async def wait(self, seconds: float) -> None:
        """Returns when events were written since the last call, or after `seconds` (a safety poll)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), seconds)
        self._woken.clear()

    async def unpublished(self, limit: int) -> list[OutboxEvent]:
        rows = await self._held().fetch(
            "SELECT id, event_id, application_id, subject, payload, created_at, trace_context "
            "FROM outbox_events WHERE published_at IS NULL ORDER BY id LIMIT $1",
            limit,
        )
        return [OutboxEvent(**dict(row)) for row in rows]

    async def mark_published(self, ids: Sequence[int]) -> None:
        await self._held().execute(
            "UPDATE outbox_events SET published_at = clock_timestamp() "
            "WHERE id = ANY($1::bigint[]) AND published_at IS NULL",
            list(ids),
        )

    async def backlog(self) -> tuple[int, datetime | None]:
        """How many events wait, and when the oldest was written."""
        row = await self._held().fetchrow(
            "SELECT count(*) AS waiting, min(created_at) AS oldest "
            "FROM outbox_events WHERE published_at IS NULL"
        )
        assert row is not None
        return int(row["waiting"]), row["oldest"]

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    def _held(self) -> asyncpg.Connection:
        if self._connection is None or self._connection.is_closed():
            raise DatabaseUnavailable("the relay's connection is closed")
        return self._connection

    def _notified(self, *_: object) -> None:
        self._woken.set()
