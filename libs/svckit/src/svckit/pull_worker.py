"""A durable JetStream pull consumer loop: fetch in batches, handle with bounded concurrency, then ack,
nak with exponential backoff and jitter (transient failures), or term (permanent failures).

Delivery is at least once: handlers must be idempotent (keyed by the message id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Histogram

from svckit import telemetry
from svckit.context import request_scope
from svckit.jetstream import MSG_ID_HEADER, request_id_from_headers
from svckit.metrics import LATENCY_BUCKETS

log = logging.getLogger(__name__)

MESSAGES_HANDLED = Counter(
    "jetstream_messages_handled_total",
    "Messages a pull worker finished with, by outcome (ack, nak, term).",
    ["consumer", "outcome"],
)
MESSAGE_HANDLING_SECONDS = Histogram(
    "jetstream_message_handling_seconds",
    "Time a pull worker's handler spent on one message, in seconds.",
    ["consumer"],
    buckets=LATENCY_BUCKETS,
)


class TransientError(Exception):
    """Try again later (a dependency is down, a lock is held): the message is nak'ed with a delay."""

    def __init__(self, message: str, *, delay: float | None = None) -> None:
        super().__init__(message)
        self.delay = delay


class PermanentError(Exception):
    """Retrying cannot help (the message is malformed, the target is gone): the message is terminated."""


MessageHandler = Callable[[Msg], Awaitable[None]]
DeadLetterHandler = Callable[[Msg, BaseException], Awaitable[None]]


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: attempt n waits `initial * multiplier**(n-1)`, capped at
    `maximum`, minus up to `jitter` of it at random, so retries from many workers spread out."""

    initial: float = 0.5
    maximum: float = 60.0
    multiplier: float = 2.0
    jitter: float = 0.5

    def delay(self, attempt: int) -> float:
        exponent = max(attempt, 1) - 1
        # Cap the exponent too: 2.0**1100 overflows a float.
        base = min(self.maximum, self.initial * self.multiplier ** min(exponent, 64))
        return base * (1.0 - self.jitter * random.random())


class PullWorker:
    """Consumes a durable pull consumer until stopped.

    Per message: the handler runs inside a CONSUMER span continuing the publisher's trace, with the
    publisher's request id bound. Success → ack. `TransientError` (or any unexpected exception) → nak with
    backoff from the delivery count. `PermanentError`, or a failure on attempt `max_attempts` →
    `on_dead_letter` (if given; e.g. publish to a dead-letter stream) then term.

    Messages are handled concurrently (up to `concurrency`), so order is not preserved unless
    `concurrency=1`.
    """

    def __init__(
        self,
        js: JetStreamContext,
        *,
        stream: str,
        durable: str,
        handler: MessageHandler,
        filter_subject: str | None = None,
        batch: int = 32,
        concurrency: int = 16,
        fetch_timeout: float = 1.0,
        ack_wait: timedelta = timedelta(seconds=30),
        max_attempts: int = 10,
        backoff: Backoff = Backoff(),  # frozen, so one shared default is safe
        on_dead_letter: DeadLetterHandler | None = None,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        if batch < 1 or concurrency < 1 or max_attempts < 1:
            raise ValueError("batch, concurrency and max_attempts must be at least 1")
        self._js = js
        self._stream = stream
        self._durable = durable
        self._handler = handler
        self._filter_subject = filter_subject
        self._batch = batch
        self._concurrency = concurrency
        self._fetch_timeout = fetch_timeout
        self._ack_wait = ack_wait
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._on_dead_letter = on_dead_letter
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._tracer = telemetry.tracer(tracer_provider)
        self._handled = {
            outcome: MESSAGES_HANDLED.labels(durable, outcome) for outcome in ("ack", "nak", "term")
        }
        self._seconds = MESSAGE_HANDLING_SECONDS.labels(durable)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(
            name=self._durable,
            durable_name=self._durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self._ack_wait.total_seconds(),
            # Unlimited: the worker decides when to give up (max_attempts), so a message whose dead-letter
            # publish failed is still redelivered instead of stranded in the stream.
            max_deliver=-1,
            max_ack_pending=max(1000, self._concurrency * 4),
            filter_subject=self._filter_subject,
        )

    async def start(self) -> None:
        """Create or update the durable consumer, bind to it and start the fetch loop."""
        if self._loop_task is not None:
            raise RuntimeError("PullWorker already started")
        await self._js.add_consumer(self._stream, self.consumer_config())
        subscription = await self._js.pull_subscribe_bind(durable=self._durable, stream=self._stream)
        self._loop_task = asyncio.create_task(self._run(subscription), name=f"pull-worker:{self._durable}")

    async def stop(self) -> None:
        """Stop fetching, let in-flight messages finish, and unsubscribe (the durable consumer stays)."""
        self._stopping.set()
        if self._loop_task is not None:
            await self._loop_task

    async def wait(self) -> None:
        """Return when the loop ends (after `stop()`); raises if it crashed. For `ServiceRunner.spawn`."""
        if self._loop_task is None:
            raise RuntimeError("PullWorker not started")
        await asyncio.shield(self._loop_task)

    async def _run(self, subscription: JetStreamContext.PullSubscription) -> None:
        try:
            while not self._stopping.is_set():
                free = self._concurrency - len(self._in_flight)
                if free <= 0:
                    await asyncio.wait(self._in_flight, return_when=asyncio.FIRST_COMPLETED)
                    continue
                # Wait out a fetch instead of cancelling it on stop: messages it already pulled would
                # otherwise sit unacknowledged until ack_wait expires.
                messages = await self._fetch(subscription, min(self._batch, free))
                for message in messages:
                    task = asyncio.create_task(self._handle(message))
                    self._in_flight.add(task)
                    task.add_done_callback(self._in_flight.discard)
        finally:
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)
            try:
                await subscription.unsubscribe()
            except nats.errors.Error:
                log.warning("could not unsubscribe pull worker", extra={"consumer": self._durable})

    async def _fetch(self, subscription: JetStreamContext.PullSubscription, count: int) -> list[Msg]:
        try:
            return await subscription.fetch(count, timeout=self._fetch_timeout)
        except TimeoutError:
            # No message within fetch_timeout (nats.errors.TimeoutError is a TimeoutError too).
            return []
        except (nats.errors.Error, OSError) as error:
            # Reconnecting or a JetStream hiccup: wait a little (but wake for stop) and fetch again.
            log.warning("fetch failed: %s", error, extra={"consumer": self._durable})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._backoff.initial)
            return []

    async def _handle(self, message: Msg) -> None:
        attempt = message.metadata.num_delivered or 1
        headers = message.headers or {}
        started = time.perf_counter()
        with (
            request_scope(request_id_from_headers(headers)),
            self._tracer.start_as_current_span(
                f"{self._durable} process",
                context=telemetry.extract_context(headers),
                kind=SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "nats",
                    "messaging.destination.name": message.subject,
                    "messaging.consumer.group.name": self._durable,
                    "messaging.message.id": headers.get(MSG_ID_HEADER, ""),
                    "messaging.delivery.attempt": attempt,
                },
            ) as span,
        ):
            try:
                await self._handler(message)
            except asyncio.CancelledError:
                # Hand the message back for another worker rather than leave it until ack_wait expires.
                await self._settle(message.nak(), "nak")
                raise
            except Exception as error:
                span.record_exception(error)
                permanent = isinstance(error, PermanentError)
                if permanent or attempt >= self._max_attempts:
                    await self._dead_letter(message, error, attempt, permanent=permanent)
                else:
                    await self._retry(message, error, attempt)
            else:
                await self._settle(message.ack(), "ack")
            finally:
                self._seconds.observe(time.perf_counter() - started)

    async def _retry(self, message: Msg, error: Exception, attempt: int) -> None:
        delay = error.delay if isinstance(error, TransientError) else None
        if delay is None:
            delay = self._backoff.delay(attempt)
        log.warning(
            "message handling failed (attempt %d), retrying in %.2fs: %s",
            attempt,
            delay,
            error,
            # A TransientError is expected; anything else is a bug or an unforeseen failure.
            exc_info=None if isinstance(error, TransientError) else error,
            extra=self._log_fields(message, attempt),
        )
        await self._settle(message.nak(delay=delay), "nak")

    async def _dead_letter(self, message: Msg, error: Exception, attempt: int, *, permanent: bool) -> None:
        log.error(
            "message terminated after %d attempt(s) (%s): %s",
            attempt,
            "permanent failure" if permanent else "retries exhausted",
            error,
            exc_info=None if isinstance(error, TransientError | PermanentError) else error,
            extra=self._log_fields(message, attempt),
        )
        if self._on_dead_letter is not None:
            try:
                await self._on_dead_letter(message, error)
            except Exception:
                # Not dead-lettered, so it must not be terminated: try the whole thing again later.
                log.exception("dead-letter handler failed", extra=self._log_fields(message, attempt))
                await self._settle(message.nak(delay=self._backoff.delay(attempt)), "nak")
                return
        await self._settle(message.term(), "term")

    async def _settle(self, action: Awaitable[None], outcome: str) -> None:
        try:
            await action
        except nats.errors.Error as error:
            # The ack was lost with the connection: JetStream redelivers after ack_wait.
            log.warning("could not %s message: %s", outcome, error, extra={"consumer": self._durable})
            return
        self._handled[outcome].inc()

    def _log_fields(self, message: Msg, attempt: int) -> dict[str, object]:
        return {
            "consumer": self._durable,
            "subject": message.subject,
            "stream_sequence": message.metadata.sequence.stream,
            "attempt": attempt,
        }
