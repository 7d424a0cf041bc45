"""Scoring's composition root: the channels to intake and bureau-gateway, the job worker, the gRPC
server; runs them and takes them down in order."""

import asyncio
from dataclasses import dataclass, field

import grpc
from nats.aio.client import Client
from opentelemetry.sdk.trace import TracerProvider

from scoring.api import ACCESS_POLICY, ERROR_DOMAIN, SERVICE_NAME, ScoringApi, register
from scoring.dead_letters import DeadLetters
from scoring.failures import JobFailures
from scoring.jobs import Scorer
from scoring.settings import ScoringSettings
from scoring.upstream import Bureau, Intake
from scoring.worker import JobWorker
from svckit.auth import JwtVerifier
from svckit.client import client_channel, token_provider
from svckit.jetstream import connect_nats
from svckit.process import start_service_process
from svckit.server import BuiltServer, GrpcService, build_server


@dataclass
class ScoringApp:
    server: BuiltServer
    worker: JobWorker
    nats: Client
    channels: tuple[grpc.aio.Channel, ...]
    _worker_start: asyncio.Task[None] | None = field(default=None, repr=False)

    async def start(self) -> None:
        await self.server.start()
        self.start_worker()

    def start_worker(self) -> None:
        # In the background: the worker waits for intake's stream, which may not exist yet.
        self._worker_start = asyncio.create_task(self.worker.start(), name="scoring-worker-start")

    async def worker_done(self) -> None:
        """Returns once the worker has stopped; raises if it could not start or its loop crashed."""
        if self._worker_start is None:
            raise RuntimeError("the worker was not started")
        await self._worker_start
        await self.worker.wait()

    async def stop_worker(self) -> None:
        if self._worker_start is not None and not self._worker_start.done():
            self._worker_start.cancel()
        await self.worker.stop()

    async def close(self) -> None:
        await self.nats.close()
        await asyncio.gather(*(channel.close() for channel in self.channels))

    async def stop(self, grace: float = 5.0) -> None:
        """Stop taking calls and jobs, finish the jobs in flight, then close."""
        await self.server.stop(grace)
        await self.stop_worker()
        await self.close()


async def build(settings: ScoringSettings, *, tracer_provider: TracerProvider | None = None) -> ScoringApp:
    tokens = token_provider(settings)
    intake_channel, bureau_channel = (
        client_channel(
            address,
            token_provider=tokens,
            default_timeout=settings.call_timeout_seconds,
            tracer_provider=tracer_provider,
        )
        for address in (settings.intake_address, settings.bureau_address)
    )
    intake, bureau = Intake(intake_channel), Bureau(bureau_channel)
    nats = await connect_nats(settings.nats_servers, name="scoring")
    js = nats.jetstream()
    dead_letters = DeadLetters(js)
    await dead_letters.ensure_stream()
    scorer = Scorer(intake, bureau)
    failures = JobFailures(intake, dead_letters, scorer)
    worker = JobWorker(js, scorer, failures, settings, tracer_provider=tracer_provider)
    api = ScoringApi(bureau, dead_letters, failures)
    server = await build_server(
        services=[GrpcService(SERVICE_NAME, lambda grpc_server: register(grpc_server, api))],
        policy=ACCESS_POLICY,
        verifier=JwtVerifier(settings.jwks(), issuer=settings.auth_issuer, audience=settings.auth_audience),
        error_domain=ERROR_DOMAIN,
        listen=settings.grpc_listen,
        tracer_provider=tracer_provider,
    )
    return ScoringApp(server=server, worker=worker, nats=nats, channels=(intake_channel, bureau_channel))


async def serve(settings: ScoringSettings) -> None:
    """Runs scoring until SIGTERM or SIGINT, then drains."""
    runner, telemetry = start_service_process("scoring", settings)
    app = await build(settings, tracer_provider=telemetry.tracer_provider)
    # Last registered runs first, once the server has stopped: finish the jobs in flight, then close.
    runner.on_shutdown(app.close, name="nats and channels")
    runner.on_shutdown(app.stop_worker, name="job worker")
    app.start_worker()
    # A worker that cannot start or whose loop dies stops the replica, to be restarted, rather than leave
    # it serving RPCs (and reporting SERVING) while no job is taken.
    runner.spawn("job worker", app.worker_done())
    await runner.serve(app.server)
