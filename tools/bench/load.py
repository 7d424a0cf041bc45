"""The load generator: CreateApplication over grpc.aio, closed loop (C workers) or open loop (a fixed
arrival rate), in a process of its own so that the orchestrator's bookkeeping takes none of its CPU.

`LoadClient` (in the orchestrator) starts the process with `spawn` and hands it one `Phase` at a time;
the process answers with the phase's raw `PhaseSamples` (for a `DecisionPhase`, see bench.pipeline,
`DecisionSamples`). Requests are valid and unique (a new request id and a document never sent before in
this run, countries round-robin, never one of bureau-gateway's sandbox identities, whose simulated bureau
fails or answers a fixed report), generated and serialized ahead of each phase so that building them
costs no CPU while the clock runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import random
import signal
import time
from array import array
from collections import Counter, deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Literal

import grpc
import grpc.aio
import nats
from nats.aio.client import Client as NatsClient

from bench.pipeline import DecisionPhase, DecisionSamples, creator, run_decision_phase
from bureau_gateway.sandbox import SANDBOX_IDENTITIES
from samples.applications import create_request
from samples.documents import valid_document

CREATE_METHOD = "/globalcredit.intake.v1.IntakeService/CreateApplication"
CHANNEL_OPTIONS = (("grpc.enable_http_proxy", 0),)  # a proxy from the environment must not get in between
RPC_TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 15.0
# Closed-loop phases do not know their request count in advance: generate enough for this rate, and make
# the rest on the fly (counted in `PhaseSamples.generated_during_phase`).
PREGENERATED_PER_SECOND = 2500
OK = "OK"
SANDBOX_DOCUMENTS = frozenset((identity.country.value, identity.document) for identity in SANDBOX_IDENTITIES)
"""(country, document) of bureau-gateway's sandbox identities: never sent."""


@dataclass(frozen=True)
class Phase:
    """One measurement: `kind` closed (`concurrency` workers) or open (`rate` arrivals per second)."""

    kind: Literal["closed", "open"]
    duration: float
    warmup: float
    concurrency: int = 0
    rate: float = 0.0

    @classmethod
    def closed(cls, concurrency: int, *, duration: float, warmup: float) -> Phase:
        return cls("closed", duration, warmup, concurrency=concurrency)

    @classmethod
    def open(cls, rate: float, *, duration: float, warmup: float) -> Phase:
        return cls("open", duration, warmup, rate=rate)

    @property
    def label(self) -> str:
        return f"C={self.concurrency}" if self.kind == "closed" else f"{self.rate:.0f}/s"


@dataclass
class PhaseSamples:
    """What the load process measured in one phase (times from `time.perf_counter_ns`)."""

    phase: Phase
    latencies_ns: array[int] = field(default_factory=lambda: array("q"))
    """Successful requests sent (closed) or scheduled (open) inside the measured window."""
    completed_in_window: int = 0
    """Successful requests that completed inside the measured window: the throughput."""
    window_seconds: float = 0.0
    succeeded: int = 0
    """Every successful request of the phase, warm-up included (for CPU per create)."""
    errors: dict[str, int] = field(default_factory=dict)
    """Failed requests by status code, warm-up included."""
    send_lag_ns: array[int] = field(default_factory=lambda: array("q"))
    """Open loop: how late each request left against its schedule (the client's own lag)."""
    client_cpu_seconds: float = 0.0
    generated_during_phase: int = 0


class LoadError(RuntimeError):
    """The load process failed, died or did not answer in time."""


@dataclass(frozen=True)
class _Failure:
    message: str


# --- the orchestrator's side --------------------------------------------------------------------------------


class LoadClient:
    """The load process, seen from the orchestrator: `start()`, `run(phase)` as often as needed, `stop()`."""

    def __init__(
        self, address: str, token: str, countries: Sequence[str], *, nats_url: str = "", seed: int = 1
    ) -> None:
        self._arguments = (address, token, tuple(countries), nats_url, seed)
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._in_phase = False

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=serve, args=(*self._arguments, theirs), name="bench-load", daemon=True
        )
        process.start()
        theirs.close()
        self._process, self._connection = process, ours
        self._receive(timeout=CONNECT_TIMEOUT_SECONDS + 30, what="connect to intake")

    def run(self, phase: Phase) -> PhaseSamples:
        assert self._connection is not None, "start() first"
        self._connection.send(phase)
        self._in_phase = True
        # Generating requests, the phase itself, and the slowest request's deadline.
        budget = 60 + phase.warmup + phase.duration + RPC_TIMEOUT_SECONDS
        result = self._receive(timeout=budget, what=f"finish the {phase.kind} phase {phase.label}")
        self._in_phase = False
        if not isinstance(result, PhaseSamples):
            raise LoadError(f"the load process answered {type(result).__name__}, not samples")
        return result

    def run_decisions(self, phase: DecisionPhase) -> DecisionSamples:
        """One submit-to-decision phase (needs `nats_url`)."""
        assert self._connection is not None, "start() first"
        self._connection.send(phase)
        self._in_phase = True
        # Generating requests, creating them (at worst one deadline each, 64 at a time), the decisions.
        creating = phase.warmup + phase.duration + phase.arrivals / 64 * RPC_TIMEOUT_SECONDS
        budget = 60 + creating + phase.arrivals * 0.1 + phase.stall_timeout
        result = self._receive(timeout=budget, what=f"finish the decision phase {phase.label}")
        self._in_phase = False
        if not isinstance(result, DecisionSamples):
            raise LoadError(f"the load process answered {type(result).__name__}, not decision samples")
        return result

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the process to leave; SIGTERM, then SIGKILL, by its PID if it does not (at once when it is
        in the middle of a phase: interrupted, or failed)."""
        process, connection = self._process, self._connection
        if process is None:
            return
        if connection is not None:
            with contextlib.suppress(OSError, ValueError):  # the process is gone already
                connection.send(None)
        process.join(0 if self._in_phase else timeout)
        if process.is_alive():
            process.terminate()
            process.join(5)
        if process.is_alive():
            process.kill()
            process.join(5)
        if connection is not None:
            connection.close()
        self._process = self._connection = None

    def _receive(self, *, timeout: float, what: str) -> object:
        connection, process = self._connection, self._process
        assert connection is not None
        assert process is not None
        deadline = time.monotonic() + timeout
        while not connection.poll(0.2):
            if not process.is_alive():
                raise LoadError(f"the load process (pid {process.pid}) died before it could {what}")
            if time.monotonic() > deadline:
                raise LoadError(f"the load process did not {what} within {timeout:.0f} s")
        try:
            message: object = connection.recv()
        except EOFError:
            raise LoadError(f"the load process (pid {process.pid}) exited before it could {what}") from None
        if isinstance(message, _Failure):
            raise LoadError(f"the load process could not {what}: {message.message}")
        return message


# --- the load process ---------------------------------------------------------------------------------------


def serve(
    address: str, token: str, countries: tuple[str, ...], nats_url: str, seed: int, connection: Connection
) -> None:
    """The load process's main: connect, then run each phase the orchestrator sends until it sends None."""
    # The orchestrator decides when we stop (it sees Ctrl-C too, and stops us by PID).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(_serve(address, token, countries, nats_url, seed, connection))


async def _serve(
    address: str,
    token: str,
    countries: tuple[str, ...],
    nats_url: str,
    seed: int,
    connection: Connection,
) -> None:
    source = RequestSource(countries, seed=seed, avoid=SANDBOX_DOCUMENTS)
    metadata = (("authorization", f"Bearer {token}"),)
    nats_client: NatsClient | None = None  # connected for the first decision phase
    async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as channel:
        # Bytes in, bytes out: the requests are serialized in advance and the responses are not parsed
        # (except in decision phases, which need each application's name).
        call: Any = channel.unary_unary(CREATE_METHOD)
        try:
            await asyncio.wait_for(channel.channel_ready(), CONNECT_TIMEOUT_SECONDS)
        except TimeoutError:
            connection.send(_Failure(f"no connection to {address}"))
            return
        connection.send("ready")
        try:
            while True:
                try:
                    phase = await asyncio.to_thread(connection.recv)
                except EOFError:  # the orchestrator is gone
                    return
                if phase is None:
                    return
                try:
                    if isinstance(phase, DecisionPhase):
                        if nats_client is None:
                            nats_client = await _connect_nats(nats_url)
                        result: object = await run_decisions(
                            nats_client, creator(call, metadata, RPC_TIMEOUT_SECONDS), source, phase
                        )
                    else:
                        result = await run_phase(call, metadata, source, phase)
                except Exception as error:
                    connection.send(_Failure(f"{type(error).__name__}: {error}"))
                    continue
                connection.send(result)
        finally:
            if nats_client is not None:
                await nats_client.close()


async def _connect_nats(url: str) -> NatsClient:
    if not url:
        raise LoadError("a decision phase needs NATS, and the load process was given no NATS URL")
    return await nats.connect(
        servers=[url], name="bench-load", connect_timeout=CONNECT_TIMEOUT_SECONDS, allow_reconnect=False
    )


async def run_decisions(
    client: NatsClient, create: Any, source: RequestSource, phase: DecisionPhase
) -> DecisionSamples:
    source.top_up(phase.arrivals)
    return await run_decision_phase(client.jetstream(), create, source.next, phase)


async def run_phase(
    call: Any, metadata: tuple[tuple[str, str], ...], source: RequestSource, phase: Phase
) -> PhaseSamples:
    if phase.kind == "closed":
        source.top_up(round((phase.warmup + phase.duration) * PREGENERATED_PER_SECOND))
        runner = _closed_loop
    else:
        source.top_up(_arrivals(phase))
        runner = _open_loop
    source.generated = 0
    cpu_before = time.process_time()
    samples = await runner(call, metadata, source, phase)
    samples.client_cpu_seconds = time.process_time() - cpu_before
    samples.generated_during_phase = source.generated
    return samples


async def _send(call: Any, request: bytes, metadata: tuple[tuple[str, str], ...]) -> str:
    """One CreateApplication; "OK" or the failure's status code name (nothing is dropped silently)."""
    try:
        await call(request, metadata=metadata, timeout=RPC_TIMEOUT_SECONDS)
    except grpc.aio.AioRpcError as error:
        return str(error.code().name)
    except Exception as error:
        return type(error).__name__
    return OK


async def _closed_loop(
    call: Any, metadata: tuple[tuple[str, str], ...], source: RequestSource, phase: Phase
) -> PhaseSamples:
    samples = PhaseSamples(phase, window_seconds=phase.duration)
    errors: Counter[str] = Counter()
    start = time.perf_counter_ns()
    measure_from = start + int(phase.warmup * 1e9)
    end = measure_from + int(phase.duration * 1e9)

    async def worker() -> None:
        while (sent := time.perf_counter_ns()) < end:
            code = await _send(call, source.next(), metadata)
            done = time.perf_counter_ns()
            if code != OK:
                errors[code] += 1
                continue
            samples.succeeded += 1
            if sent >= measure_from:
                samples.latencies_ns.append(done - sent)
            if measure_from <= done <= end:
                samples.completed_in_window += 1

    await asyncio.gather(*(worker() for _ in range(phase.concurrency)))
    samples.errors = dict(errors)
    return samples


async def _open_loop(
    call: Any, metadata: tuple[tuple[str, str], ...], source: RequestSource, phase: Phase
) -> PhaseSamples:
    """Requests leave on a fixed schedule whatever the server does; each latency counts from the request's
    scheduled time, so a stall is charged to every request it delays (no coordinated omission)."""
    samples = PhaseSamples(phase, window_seconds=phase.duration)
    errors: Counter[str] = Counter()
    interval = 1e9 / phase.rate
    start = time.perf_counter_ns()
    measure_from = start + int(phase.warmup * 1e9)
    end = measure_from + int(phase.duration * 1e9)

    async def one(request: bytes, scheduled: int) -> None:
        samples.send_lag_ns.append(time.perf_counter_ns() - scheduled)
        code = await _send(call, request, metadata)
        done = time.perf_counter_ns()
        if code != OK:
            errors[code] += 1
            return
        samples.succeeded += 1
        if scheduled >= measure_from:
            samples.latencies_ns.append(done - scheduled)
        if measure_from <= done <= end:
            samples.completed_in_window += 1

    in_flight: set[asyncio.Task[None]] = set()
    for number in range(_arrivals(phase)):
        scheduled = start + int(number * interval)
        delay = scheduled - time.perf_counter_ns()
        # Behind schedule: send at once, but let the requests already started make progress.
        await asyncio.sleep(delay / 1e9 if delay > 0 else 0)
        task = asyncio.create_task(one(source.next(), scheduled))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.gather(*in_flight)
    samples.errors = dict(errors)
    return samples


def _arrivals(phase: Phase) -> int:
    return max(1, round((phase.warmup + phase.duration) * phase.rate))


class RequestSource:
    """Serialized, valid CreateApplicationRequests, countries round-robin, no document used twice."""

    def __init__(
        self, countries: Sequence[str], *, seed: int, avoid: Collection[tuple[str, str]] = ()
    ) -> None:
        if not countries:
            raise ValueError("at least one country")
        self._rng = random.Random(seed)
        self._countries = itertools.cycle(countries)
        # Documents never to send, by country: taken as seen already.
        self._seen: dict[str, set[str]] = {
            country: {document for where, document in avoid if where == country} for country in countries
        }
        self._ready: deque[bytes] = deque()
        self.generated = 0
        """Requests made on demand because the prepared ones ran out."""

    def top_up(self, count: int) -> None:
        while len(self._ready) < count:
            self._ready.append(self._make())

    def next(self) -> bytes:
        if self._ready:
            return self._ready.popleft()
        self.generated += 1
        return self._make()

    def _make(self) -> bytes:
        country = next(self._countries)
        seen = self._seen[country]
        # One open application per document and country: a repeated document would be refused.
        while (document := valid_document(country, self._rng)) in seen:
            pass
        seen.add(document)
        return create_request(country, rng=self._rng, document=document).SerializeToString()
