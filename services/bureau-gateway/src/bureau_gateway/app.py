"""bureau-gateway's composition root: builds the simulated bureaus, their circuit breakers and the
gateway, the gRPC server around them, runs it, and takes it down in order."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from opentelemetry import trace

from bureau_gateway import metrics
from bureau_gateway.api import ACCESS_POLICY, ERROR_DOMAIN, SERVICE_NAME, BureauApi, register
from bureau_gateway.bureaus import PROFILES
from bureau_gateway.circuit import CircuitBoard, CircuitBreaker
from bureau_gateway.clock import Clock, Sleep, SystemClock, real_sleep
from bureau_gateway.faults import FaultBoard
from bureau_gateway.gateway import BureauGateway
from bureau_gateway.settings import BureauSettings
from bureau_gateway.simulation import SimulatedBureau
from svckit.auth import JwtVerifier
from svckit.process import start_service_process
from svckit.server import BuiltServer, GrpcService, build_server

log = logging.getLogger(__name__)


@dataclass
class BureauGatewayApp:
    """A built bureau-gateway: its server (bound, not started) and the parts tests look into."""

    server: BuiltServer
    gateway: BureauGateway
    circuits: CircuitBoard
    faults: FaultBoard

    async def start(self) -> None:
        await self.server.start()

    async def stop(self, grace: float = 5.0) -> None:
        await self.server.stop(grace)


@dataclass(frozen=True)
class Core:
    """The parts that do the work, without a server."""

    gateway: BureauGateway
    circuits: CircuitBoard
    faults: FaultBoard


def build_core(
    settings: BureauSettings,
    *,
    clock: Clock,
    sleep: Sleep = real_sleep,
    rng: random.Random | None = None,
    tracer_provider: trace.TracerProvider | None = None,
) -> Core:
    """One simulated bureau and one circuit breaker per country, and the gateway over them."""
    rng = rng or random.Random()
    faults = FaultBoard(clock)
    bureaus = {
        country: SimulatedBureau(
            profile, settings=settings.simulation(), faults=faults, clock=clock, sleep=sleep, rng=rng
        )
        for country, profile in PROFILES.items()
    }
    circuits = CircuitBoard(
        CircuitBreaker(
            bureau.country,
            bureau.provider,
            failure_threshold=settings.circuit_failure_threshold,
            cool_down=settings.circuit_cool_down,
            clock=clock,
        )
        for bureau in bureaus.values()
    )
    gateway = BureauGateway(
        bureaus,
        circuits,
        retry=settings.retry_policy(),
        deadlines=settings.deadlines(),
        clock=clock,
        sleep=sleep,
        rng=rng,
        tracer=trace.get_tracer("bureau_gateway", tracer_provider=tracer_provider),
    )
    return Core(gateway=gateway, circuits=circuits, faults=faults)


async def build(
    settings: BureauSettings,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> BureauGatewayApp:
    core = build_core(settings, clock=clock or SystemClock(), rng=rng, tracer_provider=tracer_provider)
    metrics.export_circuits(core.circuits)
    if settings.fault_injection_enabled:
        log.warning("fault injection is enabled: InjectFault can make the bureaus fail on purpose")
    api = BureauApi(
        core.gateway,
        core.circuits,
        core.faults,
        fault_injection_enabled=settings.fault_injection_enabled,
    )
    verifier = JwtVerifier(settings.jwks(), issuer=settings.auth_issuer, audience=settings.auth_audience)
    server = await build_server(
        services=[GrpcService(SERVICE_NAME, lambda grpc_server: register(grpc_server, api))],
        policy=ACCESS_POLICY,
        verifier=verifier,
        error_domain=ERROR_DOMAIN,
        listen=settings.grpc_listen,
        tracer_provider=tracer_provider,
    )
    return BureauGatewayApp(server=server, gateway=core.gateway, circuits=core.circuits, faults=core.faults)


async def serve(settings: BureauSettings) -> None:
    """Runs bureau-gateway until SIGTERM or SIGINT, then drains."""
    runner, telemetry = start_service_process("bureau-gateway", settings)
    app = await build(settings, tracer_provider=telemetry.tracer_provider)
    await runner.serve(app.server)
