"""Submit-to-decision, in the load process: create applications, and stamp the moment each one's decision
becomes visible on JetStream.

Before a decision phase the load process subscribes to intake's events (`intake.application.>`) with
an ordered consumer (ephemeral, no acks, deliver policy NEW: only what is published from then on), and
stamps the arrival of each `intake.application.status_changed` whose `decision_outcome` is set: the
change that records the decision, published by intake's outbox relay after the decision's transaction
committed. That is the moment SPEC §13 names, "decision visible on a watch stream", seen from the
client's side. It also keeps the time JetStream stored each application's `submitted` event and its
decision event (from the delivery's metadata), which tells the relay's share from the delivery's.

Two kinds of phase:
- "rate": open-loop arrivals at a fixed rate; each latency counts from the request's *scheduled* send
  time, so a stall anywhere is charged to every application it delays (no coordinated omission).
- "saturation": a closed loop of `concurrency` workers, each creating an application and waiting for
  its decision before it creates the next, so that the pipeline always has work queued and creates
  keep pace with decisions, as they would have to in any steady state. Decisions per second are those
  that arrived inside the measured window (after the warm-up), divided by its length: the end-to-end
  rate the stack can sustain, creates included.

Both end by waiting until every created application is decided, or until no decision of theirs arrives
for `stall_timeout` seconds (the rest are counted as undecided).
"""

from __future__ import annotations

import asyncio
import math
import time
from array import array
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import grpc
import grpc.aio
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy

from globalcredit.intake.v1 import events_pb2, intake_service_pb2
from globalcredit.type.v1 import decision_pb2

STREAM = "INTAKE"
EVENTS = "intake.application.>"
SUBMITTED = "intake.application.submitted"
STATUS_CHANGED = "intake.application.status_changed"
NOT_DECIDED = -1
OK = "OK"
SATURATION_GUESS_PER_SECOND = 400


@dataclass(frozen=True)
class DecisionPhase:
    """One submit-to-decision measurement (see the module's docstring)."""

    kind: Literal["rate", "saturation"]
    rate: float = 0.0
    duration: float = 0.0
    warmup: float = 0.0
    concurrency: int = 0
    stall_timeout: float = 30.0

    @classmethod
    def at_rate(cls, rate: float, *, duration: float, warmup: float, stall_timeout: float) -> DecisionPhase:
        return cls("rate", rate=rate, duration=duration, warmup=warmup, stall_timeout=stall_timeout)

    @classmethod
    def saturation(
        cls, concurrency: int, *, duration: float, warmup: float, stall_timeout: float
    ) -> DecisionPhase:
        return cls(
            "saturation",
            concurrency=concurrency,
            duration=duration,
            warmup=warmup,
            stall_timeout=stall_timeout,
        )

    @property
    def label(self) -> str:
        return f"{self.rate:.0f}/s" if self.kind == "rate" else f"K={self.concurrency}"

    @property
    def arrivals(self) -> int:
        """Applications the phase creates (saturation: a generous guess; more are made on demand)."""
        rate = self.rate if self.kind == "rate" else SATURATION_GUESS_PER_SECOND
        return max(1, round((self.warmup + self.duration) * rate))


@dataclass
class DecisionSamples:
    """What the load process saw in one decision phase: one entry per application it created, in the order
    the creates answered (times from `time.perf_counter_ns`; `clock_offset_ns` turns them into wall-clock
    times)."""

    phase: DecisionPhase
    names: list[str] = field(default_factory=list)
    """`applications/{id}` of each application created."""
    sent_ns: array[int] = field(default_factory=lambda: array("q"))
    """Rate: the scheduled send time; saturation: the actual one."""
    created_ns: array[int] = field(default_factory=lambda: array("q"))
    """When CreateApplication answered."""
    decided_ns: array[int] = field(default_factory=lambda: array("q"))
    """When its decision event arrived; NOT_DECIDED when none did."""
    outcomes: array[int] = field(default_factory=lambda: array("b"))
    """`DecisionOutcome` values (0 when undecided)."""
    submitted_stored: array[float] = field(default_factory=lambda: array("d"))
    """When JetStream stored its `submitted` event (seconds since the epoch; NaN when not seen)."""
    decision_stored: array[float] = field(default_factory=lambda: array("d"))
    """When JetStream stored its decision event (seconds since the epoch; NaN when not seen)."""
    measure_from_ns: int = 0
    measure_to_ns: int = 0
    """The measured window: applications sent inside it count towards the latencies; saturation: the
    decisions that arrive inside it, towards the rate."""
    sending_ended_ns: int = 0
    """When the last CreateApplication answered."""
    started_ns: int = 0
    ended_ns: int = 0
    """The phase's first send and the end of the wait for its decisions."""
    errors: dict[str, int] = field(default_factory=dict)
    """Failed creates by status code."""
    send_lag_ns: array[int] = field(default_factory=lambda: array("q"))
    """Rate: how late each request left against its schedule (the client's own lag)."""
    events_received: int = 0
    """Events the subscription delivered (every application's, ours or not)."""
    client_cpu_seconds: float = 0.0
    clock_offset_ns: int = 0
    """`time.time_ns() - time.perf_counter_ns()` during the phase."""

    @property
    def undecided(self) -> int:
        return sum(1 for decided in self.decided_ns if decided == NOT_DECIDED)

    def outcome_counts(self) -> dict[str, int]:
        """Decided applications by outcome name (APPROVE, REJECT, REVIEW)."""
        counts = Counter(
            outcome_name(outcome)
            for outcome, decided in zip(self.outcomes, self.decided_ns, strict=True)
            if decided != NOT_DECIDED
        )
        return dict(sorted(counts.items()))


def outcome_name(value: int) -> str:
    return decision_pb2.DecisionOutcome.Name(value).removeprefix("DECISION_OUTCOME_")  # type: ignore[arg-type]


class DecisionWatch:
    """Decisions as they become visible on JetStream: an ordered consumer of intake's events, from the
    moment `start()` returns."""

    def __init__(self) -> None:
        self.decided: dict[str, tuple[int, int]] = {}
        """By application name: (arrival, perf_counter_ns; DecisionOutcome)."""
        self.submitted_stored: dict[str, float] = {}
        self.decision_stored: dict[str, float] = {}
        """By application name: when JetStream stored the event (seconds since the epoch)."""
        self.received = 0
        self._waiting: set[str] = set()
        self._futures: dict[str, asyncio.Future[None]] = {}
        self._progress = asyncio.Event()
        self._subscription: Any = None

    async def start(self, js: JetStreamContext) -> None:
        self._subscription = await js.subscribe(
            EVENTS,
            stream=STREAM,
            cb=self._on_message,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None

    async def decision_of(self, name: str, stall_timeout: float) -> None:
        """Until `name` is decided, or for `stall_timeout` seconds."""
        if name in self.decided:
            return
        future = self._futures.setdefault(name, asyncio.get_running_loop().create_future())
        try:
            await asyncio.wait_for(asyncio.shield(future), stall_timeout)
        except TimeoutError:
            pass
        finally:
            self._futures.pop(name, None)

    async def wait_for(self, names: list[str], stall_timeout: float) -> None:
        """Until each of `names` is decided, or none of them was for `stall_timeout` seconds."""
        self._waiting = {name for name in names if name not in self.decided}
        while self._waiting:
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), stall_timeout)
            except TimeoutError:
                break
        self._waiting = set()

    async def _on_message(self, message: Any) -> None:
        arrived = time.perf_counter_ns()
        self.received += 1
        if message.subject == SUBMITTED:
            submitted = events_pb2.ApplicationSubmitted.FromString(message.data)
            self.submitted_stored.setdefault(submitted.name, _stored(message))
            return
        if message.subject != STATUS_CHANGED:
            return
        event = events_pb2.ApplicationStatusChanged.FromString(message.data)
        if event.decision_outcome == decision_pb2.DECISION_OUTCOME_UNSPECIFIED:
            return  # PENDING -> VALIDATING, or a later move
        self.decided.setdefault(event.name, (arrived, event.decision_outcome))
        self.decision_stored.setdefault(event.name, _stored(message))
        future = self._futures.get(event.name)
        if future is not None and not future.done():
            future.set_result(None)
        if event.name in self._waiting:
            self._waiting.discard(event.name)
            self._progress.set()


def _stored(message: Any) -> float:
    """When JetStream stored `message` (seconds since the epoch), from its delivery's metadata."""
    try:
        return float(message.metadata.timestamp.timestamp())
    except Exception:  # no JetStream metadata: not to be had
        return math.nan


Create = Callable[[bytes], Awaitable[tuple[str, str]]]
"""Sends one serialized CreateApplicationRequest; answers (status, application name)."""


def creator(call: Any, metadata: tuple[tuple[str, str], ...], timeout: float) -> Create:
    async def create(request: bytes) -> tuple[str, str]:
        try:
            response = await call(request, metadata=metadata, timeout=timeout)
        except grpc.aio.AioRpcError as error:
            return str(error.code().name), ""
        except Exception as error:
            return type(error).__name__, ""
        return OK, intake_service_pb2.CreateApplicationResponse.FromString(response).application.name

    return create


async def run_decision_phase(
    js: JetStreamContext, create: Create, next_request: Callable[[], bytes], phase: DecisionPhase
) -> DecisionSamples:
    samples = DecisionSamples(phase, clock_offset_ns=time.time_ns() - time.perf_counter_ns())
    watch = DecisionWatch()
    await watch.start(js)
    cpu_before = time.process_time()
    samples.started_ns = time.perf_counter_ns()
    errors: Counter[str] = Counter()
    sent: list[int] = []
    created: list[int] = []

    async def one(request: bytes, scheduled: int) -> str:
        code, name = await create(request)
        done = time.perf_counter_ns()
        if code != OK:
            errors[code] += 1
            return ""
        samples.names.append(name)
        sent.append(scheduled)
        created.append(done)
        return name

    try:
        if phase.kind == "rate":
            await _at_rate(phase, samples, one, next_request)
        else:
            await _closed_loop(phase, samples, one, next_request, watch)
        samples.sending_ended_ns = time.perf_counter_ns()
        await watch.wait_for(samples.names, phase.stall_timeout)
        samples.ended_ns = time.perf_counter_ns()
    finally:
        await watch.stop()
    samples.client_cpu_seconds = time.process_time() - cpu_before
    samples.errors = dict(errors)
    samples.events_received = watch.received
    samples.sent_ns = array("q", sent)
    samples.created_ns = array("q", created)
    for name in samples.names:
        decided, outcome = watch.decided.get(name, (NOT_DECIDED, 0))
        samples.decided_ns.append(decided)
        samples.outcomes.append(outcome)
        samples.submitted_stored.append(watch.submitted_stored.get(name, math.nan))
        samples.decision_stored.append(watch.decision_stored.get(name, math.nan))
    return samples


async def _at_rate(
    phase: DecisionPhase,
    samples: DecisionSamples,
    one: Callable[[bytes, int], Awaitable[str]],
    next_request: Callable[[], bytes],
) -> None:
    interval = 1e9 / phase.rate
    start = time.perf_counter_ns()
    samples.measure_from_ns = start + int(phase.warmup * 1e9)
    samples.measure_to_ns = samples.measure_from_ns + int(phase.duration * 1e9)
    in_flight: set[asyncio.Task[None]] = set()

    async def on_time(request: bytes, scheduled: int) -> None:
        samples.send_lag_ns.append(time.perf_counter_ns() - scheduled)
        await one(request, scheduled)

    for number in range(phase.arrivals):
        scheduled = start + int(number * interval)
        delay = scheduled - time.perf_counter_ns()
        # Behind schedule: send at once, but let the requests already started make progress.
        await asyncio.sleep(delay / 1e9 if delay > 0 else 0)
        task = asyncio.create_task(on_time(next_request(), scheduled))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.gather(*in_flight)


async def _closed_loop(
    phase: DecisionPhase,
    samples: DecisionSamples,
    one: Callable[[bytes, int], Awaitable[str]],
    next_request: Callable[[], bytes],
    watch: DecisionWatch,
) -> None:
    start = time.perf_counter_ns()
    samples.measure_from_ns = start + int(phase.warmup * 1e9)
    samples.measure_to_ns = end = samples.measure_from_ns + int(phase.duration * 1e9)

    async def worker() -> None:
        while (sent := time.perf_counter_ns()) < end:
            name = await one(next_request(), sent)
            if name:
                await watch.decision_of(name, phase.stall_timeout)

    await asyncio.gather(*(worker() for _ in range(max(1, phase.concurrency))))
