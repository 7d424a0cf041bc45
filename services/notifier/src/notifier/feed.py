"""Notifier's side of JetStream: the one live feed of status changes per replica, the stream's bounds, and
the replays that resuming watchers read from. The only module that talks NATS.

Both the feed and the replays are ordered consumers: ephemeral, in-memory, flow-controlled push consumers
that nats-py recreates from the last sequence it received when it detects a gap or misses heartbeats (a
NATS restart), so neither skips an event. They are read with `next_msg`, not a callback: nats-py answers
JetStream's flow control only as messages are taken, so a slow reader holds the server back instead of
overflowing the client's buffer (which would drop messages the ordered consumer believes delivered).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import nats.errors
import nats.js.errors
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from opentelemetry.trace import SpanKind

from notifier import metrics
from notifier.errors import EventsUnavailable
from notifier.events import StatusChange, UndecodableEvent, decode
from svckit.telemetry import extract_context, tracer

log = logging.getLogger(__name__)

# What NATS raises when it cannot answer: down, reconnecting, timed out, JetStream not ready.
NATS_ERRORS = (nats.errors.Error, asyncio.TimeoutError)


class FeedSink(Protocol):
    """Where the live feed delivers (the hub)."""

    def start(self, position: int) -> None: ...

    def dispatch(self, change: StatusChange) -> int: ...


class StatusFeed:
    """The stream `stream`'s messages on `subject`: live, and replayed from a sequence."""

    def __init__(
        self,
        js: JetStreamContext,
        *,
        stream: str,
        subject: str,
        heartbeat_seconds: float = 1.0,
        retry_max_seconds: float = 5.0,
    ) -> None:
        self._js = js
        self._stream = stream
        self._subject = subject
        self._heartbeat = heartbeat_seconds
        self._retry_max = retry_max_seconds
        self._tracer = tracer()

    async def bounds(self) -> tuple[int, int]:
        """(first, last) sequence of the stream; a stream that does not exist yet counts as empty."""
        try:
            info = await self._js.stream_info(self._stream)
        except nats.js.errors.NotFoundError:
            return 1, 0
        except NATS_ERRORS as error:
            raise _unavailable(error) from error
        return int(info.state.first_seq), int(info.state.last_seq)

    async def replay(self, after: int) -> OrderedReader:
        """Status changes stored after sequence `after`, then new ones, until closed."""
        try:
            subscription = await self._subscribe(after + 1)
        except NATS_ERRORS as error:
            raise _unavailable(error) from error
        return OrderedReader(subscription)

    async def run(self, sink: FeedSink) -> None:
        """Feed `sink` every status change from now on, in stream order, until NATS is closed."""
        position = await self._starting_position()
        subscription = await self._subscribe_retrying(position + 1)
        sink.start(position)
        log.info("live feed started", extra={"stream": self._stream, "stream_sequence": position})
        reader = OrderedReader(subscription)
        try:
            while True:
                try:
                    message = await reader.next_message()
                except EventsUnavailable:
                    log.info("nats connection closed; the live feed stops")
                    return
                change = reader.decode(message)
                if change is None:
                    continue
                metrics.EVENTS_RECEIVED.inc()
                metrics.FEED_PENDING.set(message.metadata.num_pending)
                with self._tracer.start_as_current_span(
                    "notifier.fan_out",
                    context=extract_context(message.headers),
                    kind=SpanKind.CONSUMER,
                    attributes={"messaging.system": "nats", "messaging.destination.name": self._subject},
                ) as span:
                    span.set_attribute("notifier.watchers", sink.dispatch(change))
                metrics.FEED_SEQUENCE.set(change.sequence)
        finally:
            await reader.close()

    async def _starting_position(self) -> int:
        """The sequence of the last status change stored before the feed starts (0: none).

        Starting right after the last *status change* (not the last message of any subject) means the
        position is always a status change a replay will meet, so a resuming watcher can reach it.
        """
        delay = 0.1
        stream_was_missing = False
        while True:
            try:
                await self._js.stream_info(self._stream)
                break
            except nats.js.errors.NotFoundError:
                if not stream_was_missing:
                    log.warning("stream %s does not exist yet; waiting for it", self._stream)
                stream_was_missing = True
            except NATS_ERRORS as error:
                log.warning("cannot reach JetStream; retrying", extra={"error": type(error).__name__})
            await asyncio.sleep(delay)
            delay = min(self._retry_max, delay * 2)
        if stream_was_missing:
            # Created after we started: everything in it happened after any watcher connected.
            return 0
        while True:
            try:
                last = await self._js.get_last_msg(self._stream, self._subject)
                return last.seq or 0
            except nats.js.errors.NotFoundError:
                return 0
            except NATS_ERRORS as error:
                log.warning("cannot reach JetStream; retrying", extra={"error": type(error).__name__})
            await asyncio.sleep(delay)
            delay = min(self._retry_max, delay * 2)

    async def _subscribe_retrying(self, start: int) -> Any:
        delay = 0.1
        while True:
            try:
                return await self._subscribe(start)
            except NATS_ERRORS as error:
                log.warning(
                    "cannot create the feed's consumer; retrying", extra={"error": type(error).__name__}
                )
            await asyncio.sleep(delay)
            delay = min(self._retry_max, delay * 2)

    async def _subscribe(self, start: int) -> Any:
        return await self._js.subscribe(
            self._subject,
            stream=self._stream,
            ordered_consumer=True,
            idle_heartbeat=self._heartbeat,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            config=ConsumerConfig(opt_start_seq=start),
        )


class OrderedReader:
    """Reads an ordered consumer's subscription, one status change at a time."""

    def __init__(self, subscription: Any) -> None:
        self._subscription = subscription
        self._closed = False

    async def next(self) -> StatusChange:
        """The next status change (messages that are not one are logged and skipped)."""
        while True:
            change = self.decode(await self.next_message())
            if change is not None:
                return change

    async def next_message(self) -> Any:
        try:
            return await self._subscription.next_msg(timeout=None)
        except nats.errors.ConnectionClosedError as error:
            raise _unavailable(error) from error

    @staticmethod
    def decode(message: Any) -> StatusChange | None:
        sequence = int(message.metadata.sequence.stream)
        try:
            return decode(sequence, message.data)
        except UndecodableEvent as error:
            # Skipping is all we can do; the sequence is logged so an operator can look at the message.
            log.error(
                "skipping an undecodable message", extra={"stream_sequence": sequence, "error": str(error)}
            )
            return None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._subscription.unsubscribe()
        except NATS_ERRORS:
            # An ephemeral consumer goes away by itself once its subscription is gone.
            log.debug("unsubscribing an ordered consumer failed", exc_info=True)


def _unavailable(error: BaseException) -> EventsUnavailable:
    log.warning("JetStream unavailable", extra={"error": type(error).__name__})
    return EventsUnavailable("the events are unavailable for now; reconnect with your last resume token")
