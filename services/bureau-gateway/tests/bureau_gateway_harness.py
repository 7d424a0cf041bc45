"""Test support for bureau-gateway: a fake clock and sleep, a scripted bureau adapter that counts its
calls, and a real gRPC server on a free port with clients that carry a token of a given role."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
from opentelemetry import trace

from bureau_gateway.adapter import BureauError
from bureau_gateway.app import BureauGatewayApp, build
from bureau_gateway.bureaus import PROFILES, Country
from bureau_gateway.reports import BureauReport, CreditFile, money
from bureau_gateway.settings import BureauSettings
from globalcredit.bureau.v1 import bureau_service_pb2_grpc
from svckit.auth import TokenIssuer
from svckit.client import client_channel

ISSUER = "globalcredit-test"
AUDIENCE = "globalcredit"

# Quick enough that a test through the RPCs takes a fraction of a second, slow enough that the
# timeouts are not lost in the noise of a shared 2-core machine.
FAST = {
    "latency_seconds": 0.001,
    "latency_jitter_seconds": 0.001,
    "attempt_timeout_seconds": 0.1,
    "call_timeout_seconds": 1.0,
    "answer_margin_seconds": 0.05,
    "backoff_base_seconds": 0.01,
    "backoff_max_seconds": 0.05,
}


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) -> None:
        self._monotonic = 1000.0
        self._now = start

    def monotonic(self) -> float:
        return self._monotonic

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._monotonic += seconds
        self._now += timedelta(seconds=seconds)


class FakeSleep:
    """`await sleep(s)` advances the fake clock by `s` at once, and remembers every pause."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self.pauses: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self._clock.advance(seconds)


CLEAN = CreditFile(
    credit_score=700,
    total_debt=money(100_000),
    monthly_obligations=money(10_000),
    has_defaults=False,
    account_age_months=48,
)


class ScriptedBureau:
    """A `BureauClient` that answers from a script: each entry is an error to raise or None for a
    clean report; when the script runs out it keeps answering the last entry. Counts its calls."""

    def __init__(self, country: Country, script: Iterable[BureauError | None] = (None,)) -> None:
        self._profile = PROFILES[country]
        self._script: deque[BureauError | None] = deque(script)
        self.calls = 0

    @property
    def country(self) -> Country:
        return self._profile.country

    @property
    def provider(self) -> str:
        return self._profile.provider

    def then(self, *entries: BureauError | None) -> None:
        """Replace what is left of the script."""
        self._script = deque(entries)

    async def fetch(self, document: str, consent_reference: str) -> BureauReport:
        self.calls += 1
        entry = self._script.popleft() if len(self._script) > 1 else self._script[0]
        if entry is not None:
            raise entry
        return BureauReport(
            provider=self.provider,
            currency=self._profile.currency,
            credit=CLEAN,
            report_time=datetime(2026, 3, 1, tzinfo=UTC),
            report_id=f"{self.provider}-TEST",
        )


def settings_for(issuer: TokenIssuer, **overrides: Any) -> BureauSettings:
    values: dict[str, Any] = {
        "grpc_listen": "127.0.0.1:0",
        "metrics_listen": "127.0.0.1:0",
        "auth_jwks_json": json.dumps(issuer.jwks()),
        "auth_issuer": ISSUER,
        "auth_audience": AUDIENCE,
        **FAST,
        **overrides,
    }
    return BureauSettings(**values)


@dataclass
class RunningBureauGateway:
    """A bureau-gateway server under test, and clients for it that carry a token of a given role."""

    app: BureauGatewayApp
    address: str
    issuer: TokenIssuer
    _channels: list[grpc.aio.Channel] = field(default_factory=list)

    def client(self, *roles: str, partner_id: str | None = None) -> bureau_service_pb2_grpc.BureauServiceStub:
        roles = roles or ("service",)
        if "partner" in roles and partner_id is None:
            partner_id = "partner-1"
        token = self.issuer.mint(f"{roles[0]}-{uuid.uuid4().hex[:6]}", roles, partner_id=partner_id)
        channel = client_channel(self.address, token_provider=lambda: token, tracing=False)
        self._channels.append(channel)
        return bureau_service_pb2_grpc.BureauServiceStub(channel)

    def anonymous(self) -> bureau_service_pb2_grpc.BureauServiceStub:
        channel = grpc.aio.insecure_channel(self.address)
        self._channels.append(channel)
        return bureau_service_pb2_grpc.BureauServiceStub(channel)

    async def close_clients(self) -> None:
        await asyncio.gather(*(channel.close() for channel in self._channels))


@asynccontextmanager
async def running_bureau_gateway(
    settings: BureauSettings, issuer: TokenIssuer, *, tracer_provider: trace.TracerProvider | None = None
) -> AsyncIterator[RunningBureauGateway]:
    app = await build(settings, tracer_provider=tracer_provider)
    await app.start()
    running = RunningBureauGateway(app, f"127.0.0.1:{app.server.port}", issuer)
    try:
        yield running
    finally:
        await running.close_clients()
        await app.stop(grace=1.0)


Condition = Callable[[], object | Awaitable[object]]
