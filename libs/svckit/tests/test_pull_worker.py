"""PullWorker against a real nats-server: ack, retry with backoff, terminate, dead-letter, clean stop."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from svckit.context import current_request_id, request_scope
from svckit.jetstream import connect_nats, ensure_stream, publish
from svckit.pull_worker import Backoff, PermanentError, PullWorker, TransientError

FAST = Backoff(initial=0.02, maximum=0.1, jitter=0.5)


@dataclass
class Topic:
    js: JetStreamContext
    stream: str
    subject: str

    async def publish(self, payload: bytes, msg_id: str | None = None) -> None:
        await publish(self.js, self.subject, payload, msg_id=msg_id or uuid.uuid4().hex, timeout=5)

    async def pending(self, durable: str) -> tuple[int, int]:
        """(messages not yet delivered, delivered but not yet settled) for the consumer."""
        info = await self.js.consumer_info(self.stream, durable)
        return info.num_pending or 0, info.num_ack_pending or 0


@dataclass
class Seen:
    attempts: list[tuple[bytes, int]] = field(default_factory=list)
    dead: list[tuple[bytes, str]] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, message: Msg) -> None:
        self.attempts.append((message.data, message.metadata.num_delivered or 0))
        self.changed.set()

    async def until(self, condition: Callable[[], bool], within: float = 10.0) -> None:
        async with asyncio.timeout(within):
            while not condition():
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[Client]:
    client = await connect_nats(nats_url, name="svckit-worker-test")
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def topic(nc: Client) -> Topic:
    js = nc.jetstream()
    stream = f"WORK_{uuid.uuid4().hex[:8].upper()}"
    subject = f"{stream.lower()}.job"
    await ensure_stream(js, stream, [subject], sync_always=False, max_age=timedelta(hours=1))
    return Topic(js, stream, subject)


@pytest.fixture
def seen() -> Seen:
    return Seen()


@pytest.fixture
async def start_worker(topic: Topic, seen: Seen) -> AsyncIterator[Callable[..., Awaitable[PullWorker]]]:
    workers: list[PullWorker] = []

    async def on_dead_letter(message: Msg, error: BaseException) -> None:
        seen.dead.append((message.data, type(error).__name__))
        seen.changed.set()

    async def start(handler: Callable[[Msg], Awaitable[None]], **options: Any) -> PullWorker:
        options = {"backoff": FAST, "fetch_timeout": 0.2, "on_dead_letter": on_dead_letter, **options}
        worker = PullWorker(topic.js, stream=topic.stream, durable="test-worker", handler=handler, **options)
        await worker.start()
        workers.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in workers:
            await worker.stop()


async def poll(read: Callable[[], Awaitable[Any]], expected: Any, within: float = 10.0) -> bool:
    """Read consumer state until it matches: the server has no event to wait on for acks."""
    async with asyncio.timeout(within):
        while (value := await read()) != expected:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    return value == expected


async def test_handled_messages_are_acked(topic: Topic, seen: Seen, start_worker: Any) -> None:
    async def handle(message: Msg) -> None:
        seen.add(message)

    await start_worker(handle)
    for number in range(5):
        await topic.publish(f"job-{number}".encode())

    await seen.until(lambda: len(seen.attempts) == 5)
    assert sorted(data for data, _ in seen.attempts) == [f"job-{n}".encode() for n in range(5)]
    assert all(attempt == 1 for _, attempt in seen.attempts)
    assert await poll(lambda: topic.pending("test-worker"), (0, 0))


async def test_a_transient_failure_is_retried_later(topic: Topic, seen: Seen, start_worker: Any) -> None:
    async def handle(message: Msg) -> None:
        seen.add(message)
        if message.metadata.num_delivered == 1:
            raise TransientError("dependency down", delay=0.05)

    await start_worker(handle)
    await topic.publish(b"flaky")

    await seen.until(lambda: len(seen.attempts) == 2)
    assert seen.attempts == [(b"flaky", 1), (b"flaky", 2)]
    assert await poll(lambda: topic.pending("test-worker"), (0, 0))
    assert seen.dead == []


async def test_an_unexpected_exception_is_retried_too(topic: Topic, seen: Seen, start_worker: Any) -> None:
    async def handle(message: Msg) -> None:
        seen.add(message)
        if message.metadata.num_delivered == 1:
            raise KeyError("bug or surprise")

    await start_worker(handle)
    await topic.publish(b"surprise")

    await seen.until(lambda: len(seen.attempts) == 2)
    assert seen.dead == []


async def test_a_permanent_failure_is_dead_lettered_and_terminated_at_once(
    topic: Topic, seen: Seen, start_worker: Any
) -> None:
    async def handle(message: Msg) -> None:
        seen.add(message)
        raise PermanentError("malformed")

    await start_worker(handle)
    await topic.publish(b"poison")

    await seen.until(lambda: len(seen.dead) == 1)
    assert seen.dead == [(b"poison", "PermanentError")]
    assert seen.attempts == [(b"poison", 1)]
    assert await poll(lambda: topic.pending("test-worker"), (0, 0))


async def test_retries_stop_after_max_attempts(topic: Topic, seen: Seen, start_worker: Any) -> None:
    async def handle(message: Msg) -> None:
        seen.add(message)
        raise TransientError("still down")

    await start_worker(handle, max_attempts=3)
    await topic.publish(b"doomed")

    await seen.until(lambda: len(seen.dead) == 1)
    assert [attempt for _, attempt in seen.attempts] == [1, 2, 3]
    assert seen.dead == [(b"doomed", "TransientError")]
    assert await poll(lambda: topic.pending("test-worker"), (0, 0))


async def test_a_failed_dead_letter_leaves_the_message_for_another_try(
    topic: Topic, seen: Seen, start_worker: Any
) -> None:
    calls = 0

    async def flaky_dead_letter(message: Msg, error: BaseException) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("dead-letter stream unavailable")
        seen.dead.append((message.data, type(error).__name__))
        seen.changed.set()

    async def handle(message: Msg) -> None:
        seen.add(message)
        raise PermanentError("malformed")

    await start_worker(handle, on_dead_letter=flaky_dead_letter)
    await topic.publish(b"poison")

    await seen.until(lambda: len(seen.dead) == 1)
    assert [attempt for _, attempt in seen.attempts] == [1, 2]


async def test_concurrency_is_bounded(topic: Topic, seen: Seen, start_worker: Any) -> None:
    running = 0
    peak = 0
    release = asyncio.Event()

    async def handle(message: Msg) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        seen.add(message)
        await release.wait()
        running -= 1

    worker = await start_worker(handle, concurrency=3, batch=10)
    for number in range(8):
        await topic.publish(str(number).encode())

    await seen.until(lambda: len(seen.attempts) == 3)
    assert worker.in_flight == 3
    release.set()
    await seen.until(lambda: len(seen.attempts) == 8)
    assert peak == 3


async def test_stop_lets_in_flight_messages_finish(topic: Topic, seen: Seen, start_worker: Any) -> None:
    release = asyncio.Event()

    async def handle(message: Msg) -> None:
        seen.add(message)
        await release.wait()

    worker = await start_worker(handle)
    await topic.publish(b"long job")
    await seen.until(lambda: len(seen.attempts) == 1)

    stopping = asyncio.create_task(worker.stop())
    done, _ = await asyncio.wait({stopping}, timeout=0.3)
    assert not done, "stop() returned while a message was still being handled"
    release.set()
    await stopping

    assert await poll(lambda: topic.pending("test-worker"), (0, 0))


async def test_the_handler_runs_in_the_publishers_trace_and_request(
    topic: Topic, seen: Seen, start_worker: Any, tracer_provider: TracerProvider
) -> None:
    observed: list[tuple[str, int]] = []

    async def handle(message: Msg) -> None:
        observed.append((current_request_id(), trace.get_current_span().get_span_context().trace_id))
        seen.add(message)

    await start_worker(handle, tracer_provider=tracer_provider)
    with request_scope("req-from-api"), tracer_provider.get_tracer("t").start_as_current_span("api") as span:
        await topic.publish(b"traced")

    await seen.until(lambda: len(observed) == 1)
    assert observed == [("req-from-api", span.get_span_context().trace_id)]


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    backoff = Backoff(initial=1.0, maximum=30.0, multiplier=2.0, jitter=0.5)

    for attempt, base in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 30.0), (1000, 30.0)]:
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert all(base * 0.5 <= d <= base for d in delays)
        assert len(set(delays)) > 1
