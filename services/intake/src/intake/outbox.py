"""The outbox relay: publishes the events the triggers queued, in order, and marks them published only
after JetStream has acknowledged them."""

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from intake import metrics
from intake.events import EventPublisher
from intake.outbox_store import Outbox
from intake.records import OutboxEvent

log = logging.getLogger(__name__)

# How often the backlog gauges are refreshed: counting the outbox costs a query, and the relay wakes for
# every commit.
BACKLOG_REPORT_SECONDS = 5.0


class PublishIncomplete(Exception):
    """JetStream did not acknowledge every event of a batch; the rest is retried."""


def one_per_application(events: Sequence[OutboxEvent]) -> list[OutboxEvent]:
    """The longest prefix with at most one event per application.

    Events of a batch are published concurrently, so two events of one application must never share a
    batch: the second could be stored first if the first had to be retried.
    """
    seen: set[object] = set()
    batch: list[OutboxEvent] = []
    for event in events:
        if event.application_id in seen:
            break
        seen.add(event.application_id)
        batch.append(event)
    return batch


class OutboxRelay:
    def __init__(
        self,
        outbox: Outbox,
        publisher: EventPublisher,
        *,
        batch_size: int = 500,
        safety_poll_seconds: float = 5.0,
        max_backoff_seconds: float = 5.0,
    ) -> None:
        self._outbox = outbox
        self._publisher = publisher
        self._batch_size = batch_size
        self._safety_poll = safety_poll_seconds
        self._max_backoff = max_backoff_seconds
        self._stopping = asyncio.Event()
        self._backlog_reported = 0.0

    async def run(self) -> None:
        """Relays until stopped, surviving database and NATS outages."""
        failures = 0
        prepared = False
        try:
            while not self._stopping.is_set():
                try:
                    if not prepared:
                        await self._publisher.prepare()
                        prepared = True
                    if not self._outbox.held:
                        if not await self._outbox.acquire():
                            await self._sleep(self._safety_poll)  # another replica relays
                            continue
                        log.info("outbox relay active")
                    relayed = await self.relay_once()
                    failures = 0
                    if relayed == 0:
                        await self._wait_for_events()
                except Exception as error:  # every failure is retried: nothing accepted may be lost
                    failures += 1
                    delay = min(self._max_backoff, 0.05 * 2**failures) * random.uniform(0.5, 1.0)
                    log.warning(
                        "outbox relay failed; retrying",
                        extra={
                            "error": type(error).__name__,
                            "attempt": failures,
                            "retry_in_s": round(delay, 3),
                        },
                    )
                    await self._sleep(delay)
        finally:
            await self._outbox.release()

    async def relay_once(self) -> int:
        """Publishes the next batch; returns how many events JetStream acknowledged."""
        batch = one_per_application(await self._outbox.unpublished(self._batch_size))
        if time.monotonic() - self._backlog_reported > BACKLOG_REPORT_SECONDS:
            await self._report_backlog()
        if not batch:
            return 0
        acknowledged = await self._publisher.publish(batch)
        if acknowledged:
            await self._outbox.mark_published(acknowledged)
            now = datetime.now(UTC)
            for event in batch:
                if event.id in acknowledged:
                    metrics.OUTBOX_PUBLISH_LAG.observe((now - event.created_at).total_seconds())
            metrics.OUTBOX_PUBLISHED.inc(len(acknowledged))
        if len(acknowledged) < len(batch):
            raise PublishIncomplete(f"{len(batch) - len(acknowledged)} of {len(batch)} events unacknowledged")
        return len(acknowledged)

    def stop(self) -> None:
        self._stopping.set()

    async def _wait_for_events(self) -> None:
        waiter = asyncio.ensure_future(self._outbox.wait(self._safety_poll))
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiter, stopper):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _report_backlog(self) -> None:
        self._backlog_reported = time.monotonic()
        count, oldest = await self._outbox.backlog()
        metrics.OUTBOX_BACKLOG.set(count)
        metrics.OUTBOX_OLDEST_AGE.set(0 if oldest is None else (datetime.now(UTC) - oldest).total_seconds())
