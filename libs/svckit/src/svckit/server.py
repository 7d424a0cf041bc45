"""Build a gRPC server (interceptor pipeline, health, reflection) and run it until a signal, then drain.

`build_server` is separate from `ServiceRunner.serve` so tests bind port 0 and stop the server themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import grpc
import grpc.aio
from google.protobuf import descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection
from opentelemetry import trace

from svckit.auth.policy import AccessPolicy
from svckit.auth.tokens import JwtVerifier
from svckit.interceptors import ServerPipeline

log = logging.getLogger(__name__)

# Async (close NATS, dispose an engine) or plain (close the metrics server, flush the tracer provider).
ShutdownHook = Callable[[], Awaitable[None] | None]

SERVER_OPTIONS: tuple[tuple[str, int], ...] = (
    # Fail loudly when the port is taken instead of silently sharing it with another process.
    ("grpc.so_reuseport", 0),
    # Notice dead clients (half-open TCP) on long watch streams.
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    # Accept the client keepalive of `svckit.client.client_channel` (pings every 30 s, even when idle).
    ("grpc.http2.min_ping_interval_without_data_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
)


@dataclass(frozen=True)
class GrpcService:
    """One service to host: its full name (for health and reflection) and how to register it."""

    name: str  # full service name, e.g. "globalcredit.intake.v1.IntakeService"
    register: Callable[[grpc.aio.Server], None]


@dataclass
class BuiltServer:
    """A configured, bound, not yet started server."""

    server: grpc.aio.Server
    port: int
    health: health_aio.HealthServicer
    service_names: tuple[str, ...]
    _started: bool = field(default=False, repr=False)

    async def start(self) -> None:
        """Start serving and report every service (and the server as a whole, "") SERVING."""
        await self.server.start()
        self._started = True
        for name in ("", *self.service_names):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace: float, *, drain: float = 0.0) -> None:
        """Report NOT_SERVING, keep serving for `drain` seconds, then refuse new calls and give in-flight
        ones up to `grace` seconds to finish before they are cancelled."""
        await self.health.enter_graceful_shutdown()
        if self._started and drain > 0:
            await asyncio.sleep(drain)
        await self.server.stop(grace)


async def build_server(
    *,
    services: Sequence[GrpcService],
    policy: AccessPolicy,
    verifier: JwtVerifier,
    error_domain: str,
    listen: str,
    extra_interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    credentials: grpc.ServerCredentials | None = None,
    tracer_provider: trace.TracerProvider | None = None,
    options: Sequence[tuple[str, int | str]] = (),
) -> BuiltServer:
    """A server with the svckit pipeline (outermost), health, reflection and `services`, bound to `listen`.

    `error_domain` is the ErrorInfo domain of this service's errors (e.g. "intake.globalcredit").
    """
    _warn_about_policy_gaps(services, policy)
    pipeline = ServerPipeline(
        policy=policy, verifier=verifier, error_domain=error_domain, tracer_provider=tracer_provider
    )
    server = grpc.aio.server(
        interceptors=[pipeline, *extra_interceptors],
        options=[*SERVER_OPTIONS, *options],
    )
    for service in services:
        service.register(server)
    health_servicer = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = tuple(service.name for service in services)
    reflection.enable_server_reflection((*names, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    if credentials is None:
        port = server.add_insecure_port(listen)
    else:
        port = server.add_secure_port(listen, credentials)
    if port == 0:
        raise RuntimeError(f"could not bind gRPC server to {listen}")
    for name in names:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
    await health_servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    return BuiltServer(server=server, port=port, health=health_servicer, service_names=names)


def _warn_about_policy_gaps(services: Sequence[GrpcService], policy: AccessPolicy) -> None:
    """Log the policy mistakes that otherwise surface only as PERMISSION_DENIED in production."""
    hosted = {service.name for service in services}
    for method in sorted(policy.methods):
        if method.lstrip("/").partition("/")[0] not in hosted:
            log.warning("the access policy names a method of a service not hosted here: %s", method)
    pool = descriptor_pool.Default()
    for name in sorted(hosted):
        try:
            descriptor = pool.FindServiceByName(name)
        except KeyError:
            continue  # not a generated service (a test's generic handler, say): nothing to compare with
        for rpc in descriptor.methods:
            method = f"/{name}/{rpc.name}"
            if not policy.is_public(method) and not policy.allowed_roles(method):
                log.warning("%s has no access rule, so every call to it is denied", method)


class ServiceRunner:
    """Runs a built server until SIGTERM/SIGINT (or `request_stop()`), then shuts down in order:
    health NOT_SERVING → drain → stop accepting → in-flight RPCs finish within the grace period →
    shutdown hooks, last registered first (e.g. stop workers, close NATS, dispose the engine).
    """

    def __init__(self, *, grace: float = 10.0, drain: float = 0.0) -> None:
        self._grace = grace
        self._drain = drain
        self._hooks: list[tuple[str, ShutdownHook]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()
        self._failure: BaseException | None = None

    def on_shutdown(self, hook: ShutdownHook, *, name: str | None = None) -> None:
        """Run `hook()` after the server has stopped; hooks run in reverse order of registration."""
        self._hooks.append((name or str(getattr(hook, "__qualname__", repr(hook))), hook))

    def spawn(self, name: str, work: Awaitable[None]) -> None:
        """Run background work (a consumer loop, a relay) for the service's lifetime. If it fails, the
        service stops: better restarted by the orchestrator than running half-alive."""
        task = asyncio.ensure_future(work)
        task.set_name(name)
        task.add_done_callback(self._background_done)
        self._tasks.append(task)

    def _background_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        error = task.exception()
        log.error("background task %s failed; stopping", task.get_name(), exc_info=error)
        self._failure = self._failure or error
        self._stop.set()

    def request_stop(self) -> None:
        self._stop.set()

    async def serve(self, built: BuiltServer, *, handle_signals: bool = True) -> None:
        """Start `built`, wait for a stop request, then drain and run the shutdown hooks.

        Raises the first background task failure, if that is what stopped the service.
        """
        loop = asyncio.get_running_loop()
        signals = (signal.SIGTERM, signal.SIGINT) if handle_signals else ()
        for sig in signals:
            loop.add_signal_handler(sig, self._on_signal, sig)
        try:
            await built.start()
            log.info("serving", extra={"port": built.port, "services": list(built.service_names)})
            await self._stop.wait()
            log.info("shutting down", extra={"grace_seconds": self._grace, "drain_seconds": self._drain})
            await built.stop(self._grace, drain=self._drain)
            await self._run_hooks()
            await self._cancel_background()
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
        log.info("stopped")
        if self._failure is not None:
            raise self._failure

    def _on_signal(self, sig: signal.Signals) -> None:
        log.info("received %s", sig.name)
        self._stop.set()

    async def _run_hooks(self) -> None:
        for name, hook in reversed(self._hooks):
            try:
                result = hook()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                # One failing hook must not keep the others from releasing their resources.
                log.exception("shutdown hook %s failed", name)

    async def _cancel_background(self) -> None:
        pending = [task for task in self._tasks if not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def run(main: Callable[[], Awaitable[None]]) -> None:
    """The process entry point: run `main()` on a fresh event loop (a service's `__main__`)."""
    # Ctrl-C before the runner installed its handlers (during start-up) has nothing to drain.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_as_coroutine(main))


async def _as_coroutine(main: Callable[[], Awaitable[None]]) -> None:
    await main()
