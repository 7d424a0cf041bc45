"""Test support for scoring's service tests: a real intake, bureau-gateway and any number of scoring
servers on free ports, sharing the session's NATS and a database of the module's own; clients that carry a
token of a given role; and helpers that create applications and wait, with a deadline, for their decisions.

The INTAKE and SCORING_DEAD_LETTERS streams (and with them the `scoring-jobs` consumer) live on the
session's NATS, so a stack deletes them when it starts and when it stops: each module sees only the jobs and
dead letters its own tests made.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import random
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import grpc
from google.protobuf.duration_pb2 import Duration
from nats.aio.client import Client
from nats.js.errors import NotFoundError
from opentelemetry.sdk.trace import TracerProvider

from bureau_gateway.app import BureauGatewayApp
from bureau_gateway.app import build as build_bureau
from bureau_gateway.settings import BureauSettings
from globalcredit.bureau.v1 import bureau_service_pb2, bureau_service_pb2_grpc
from globalcredit.intake.v1 import application_pb2, intake_service_pb2, intake_service_pb2_grpc
from globalcredit.scoring.v1 import scoring_service_pb2_grpc
from globalcredit.type.v1 import country_pb2
from intake.app import IntakeApp
from intake.app import build as build_intake
from intake.settings import IntakeSettings
from samples.applications import create_request
from scoring.app import ScoringApp
from scoring.app import build as build_scoring
from scoring.dead_letters import STREAM as DEAD_LETTER_STREAM
from scoring.settings import ScoringSettings
from scoring.worker import DURABLE, JOBS_STREAM
from svckit.auth import TokenIssuer
from svckit.client import client_channel
from svckit.jetstream import connect_nats
from svckit.local.process import ManagedProcess
from svckit.testing.polling import eventually

ISSUER = "globalcredit-test"
AUDIENCE = "globalcredit"
SCORING_SUBJECT = "scoring"

DECIDED = frozenset({"APPROVED", "REJECTED", "UNDER_REVIEW"})
"""The statuses (as intake's database spells them) a decision, or a give-up, leaves an application in."""

# A quick simulated bureau: each call takes a few milliseconds, a hanging one is cut at 0.1 s per attempt,
# and an open circuit half-opens after a second. Fault injection on, as in development.
BUREAU_SETTINGS: Mapping[str, Any] = {
    "latency_seconds": 0.001,
    "latency_jitter_seconds": 0.002,
    "attempt_timeout_seconds": 0.1,
    "call_timeout_seconds": 1.0,
    "answer_margin_seconds": 0.05,
    "backoff_base_seconds": 0.01,
    "backoff_max_seconds": 0.05,
    "circuit_cool_down_seconds": 1.0,
    "fault_injection_enabled": True,
}

# A job that was not acked is handed out again after 5 s; retries come after tens of milliseconds.
SCORING_SETTINGS: Mapping[str, Any] = {
    "ack_wait_seconds": 5.0,
    "retry_initial_seconds": 0.05,
    "retry_max_seconds": 0.2,
    "max_deliveries": 3,
}

Condition = Callable[[], object | Awaitable[object]]
StartScoring = Callable[..., Awaitable[ScoringApp]]
"""The `start_scoring` fixture: `await start_scoring(**settings)` starts a scoring app of the test's own."""


def application_id(name: str) -> uuid.UUID:
    return uuid.UUID(name.removeprefix("applications/"))


def country_of(code: str) -> country_pb2.Country.ValueType:
    return country_pb2.Country.Value(f"COUNTRY_{code}")


def seconds(value: float) -> Duration:
    duration = Duration()
    duration.FromTimedelta(timedelta(seconds=value))
    return duration


async def reset_streams(nats_url: str) -> None:
    """Deletes the jobs stream (and the `scoring-jobs` consumer on it) and the dead letters."""
    client = await connect_nats(nats_url, name="scoring-tests")
    try:
        js = client.jetstream()
        for stream in (JOBS_STREAM, DEAD_LETTER_STREAM):
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(stream)
    finally:
        await client.close()


def intake_settings(database_url: str, nats_url: str, issuer: TokenIssuer) -> IntakeSettings:
    return IntakeSettings(
        database_url=database_url,
        nats_url=nats_url,
        grpc_listen="127.0.0.1:0",
        metrics_listen="127.0.0.1:0",
        auth_jwks_json=json.dumps(issuer.jwks()),
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        pii_keys=json.dumps({"test-1": base64.b64encode(os.urandom(32)).decode()}),
        pii_current_key_id="test-1",
        blind_index_key=base64.b64encode(os.urandom(32)).decode(),
        outbox_safety_poll_seconds=1.0,
    )


def bureau_settings(issuer: TokenIssuer, **overrides: Any) -> BureauSettings:
    values: dict[str, Any] = {
        "grpc_listen": "127.0.0.1:0",
        "metrics_listen": "127.0.0.1:0",
        "auth_jwks_json": json.dumps(issuer.jwks()),
        "auth_issuer": ISSUER,
        "auth_audience": AUDIENCE,
        **BUREAU_SETTINGS,
        **overrides,
    }
    return BureauSettings(**values)


@asynccontextmanager
async def running_bureau(
    issuer: TokenIssuer, *, tracer_provider: TracerProvider | None = None, **overrides: Any
) -> AsyncIterator[BureauGatewayApp]:
    """A bureau-gateway that trusts `issuer`'s tokens (and only those)."""
    app = await build_bureau(bureau_settings(issuer, **overrides), tracer_provider=tracer_provider)
    await app.start()
    try:
        yield app
    finally:
        await app.stop(grace=1.0)


@dataclass
class Clients:
    """Channels whose calls carry a token of a given role (one channel per address and roles), closed
    together at the end."""

    issuer: TokenIssuer
    _channels: dict[tuple[str, tuple[str, ...], str | None], grpc.aio.Channel] = field(default_factory=dict)

    def token(self, *roles: str, subject: str | None = None, partner_id: str | None = None) -> str:
        if "partner" in roles and partner_id is None:
            partner_id = "partner-1"
        subject = subject or f"{roles[0] if roles else 'nobody'}-{uuid.uuid4().hex[:6]}"
        return self.issuer.mint(subject, roles, partner_id=partner_id)

    def channel(self, address: str, *roles: str, partner_id: str | None = None) -> grpc.aio.Channel:
        key = (address, roles, partner_id)
        channel = self._channels.get(key)
        if channel is None:
            token = self.token(*roles, partner_id=partner_id)
            channel = self._channels[key] = client_channel(
                address, token_provider=lambda: token, tracing=False
            )
        return channel

    async def close(self) -> None:
        await asyncio.gather(*(channel.close() for channel in self._channels.values()))
        self._channels.clear()


@dataclass
class Stack:
    """A running intake and bureau-gateway, the scoring servers started on them, and clients for all."""

    issuer: TokenIssuer
    nats_url: str
    database_url: str
    intake: IntakeApp
    bureau: BureauGatewayApp
    clients: Clients
    db: asyncpg.Connection
    nats: Client
    _scoring: list[ScoringApp] = field(default_factory=list)
    _stopped: set[int] = field(default_factory=set)
    rng: random.Random = field(default_factory=random.Random)

    @property
    def intake_address(self) -> str:
        return f"127.0.0.1:{self.intake.server.port}"

    @property
    def bureau_address(self) -> str:
        return f"127.0.0.1:{self.bureau.server.port}"

    # Clients ---------------------------------------------------------------------------------------------

    def intake_client(self, *roles: str) -> intake_service_pb2_grpc.IntakeServiceStub:
        return intake_service_pb2_grpc.IntakeServiceStub(
            self.clients.channel(self.intake_address, *(roles or ("analyst",)))
        )

    def bureau_client(self, *roles: str) -> bureau_service_pb2_grpc.BureauServiceStub:
        return bureau_service_pb2_grpc.BureauServiceStub(
            self.clients.channel(self.bureau_address, *(roles or ("admin",)))
        )

    def scoring_client(
        self, app: ScoringApp, *roles: str, partner_id: str | None = None
    ) -> scoring_service_pb2_grpc.ScoringServiceStub:
        address = f"127.0.0.1:{app.server.port}"
        return scoring_service_pb2_grpc.ScoringServiceStub(
            self.clients.channel(address, *(roles or ("analyst",)), partner_id=partner_id)
        )

    # Scoring servers -------------------------------------------------------------------------------------

    def service_token(self, subject: str = SCORING_SUBJECT) -> str:
        """What scoring presents to intake and bureau-gateway: a `service` token from the test issuer."""
        return self.clients.token("service", subject=subject)

    def scoring_environment(self, *, subject: str = SCORING_SUBJECT, **overrides: Any) -> dict[str, str]:
        """The settings of a scoring process (`python -m scoring`), as environment variables."""
        values: dict[str, Any] = {**SCORING_SETTINGS, **overrides}
        environment = {
            "NATS_URL": self.nats_url,
            "AUTH_JWKS": json.dumps(self.issuer.jwks()),
            "AUTH_ISSUER": ISSUER,
            "AUTH_AUDIENCE": AUDIENCE,
            "SERVICE_TOKEN": self.service_token(subject),
            "SCORING_GRPC_LISTEN": "127.0.0.1:0",
            "SCORING_METRICS_LISTEN": "127.0.0.1:0",
            "SCORING_INTAKE_ADDRESS": self.intake_address,
            "SCORING_BUREAU_ADDRESS": self.bureau_address,
        }
        environment.update({f"SCORING_{key.upper()}": str(value) for key, value in values.items()})
        return environment

    def scoring_process(
        self, log_file: Path, *, subject: str = SCORING_SUBJECT, **overrides: Any
    ) -> ManagedProcess:
        """A scoring server and worker in a process of its own (not started)."""
        # The parent's environment for PATH and the like; the child's settings win over anything in it.
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("SCORING_") and not key.startswith("AUTH_")
        }
        environment.update(self.scoring_environment(subject=subject, **overrides))
        return ManagedProcess(
            "scoring", [sys.executable, "-m", "scoring"], log_file=log_file, env=environment
        )

    def scoring_settings(self, *, subject: str = SCORING_SUBJECT, **overrides: Any) -> ScoringSettings:
        values: dict[str, Any] = {
            "grpc_listen": "127.0.0.1:0",
            "metrics_listen": "127.0.0.1:0",
            "nats_url": self.nats_url,
            "auth_jwks_json": json.dumps(self.issuer.jwks()),
            "auth_issuer": ISSUER,
            "auth_audience": AUDIENCE,
            "service_token": self.service_token(subject),
            "intake_address": self.intake_address,
            "bureau_address": self.bureau_address,
            **SCORING_SETTINGS,
            **overrides,
        }
        return ScoringSettings(**values)

    async def start_scoring(
        self,
        *,
        subject: str = SCORING_SUBJECT,
        tracer_provider: TracerProvider | None = None,
        **overrides: Any,
    ) -> ScoringApp:
        """A scoring server and worker in this process, started (its worker binds in the background)."""
        app = await build_scoring(
            self.scoring_settings(subject=subject, **overrides), tracer_provider=tracer_provider
        )
        await app.start()
        self._scoring.append(app)
        return app

    async def stop_scoring(self, app: ScoringApp) -> None:
        if id(app) in self._stopped:
            return
        self._stopped.add(id(app))
        await app.stop(grace=1.0)

    async def stop_all_scoring(self) -> None:
        for app in reversed(self._scoring):
            await self.stop_scoring(app)

    # The jobs consumer -----------------------------------------------------------------------------------

    async def consumer_info(self) -> Any:
        """The `scoring-jobs` consumer's state (None before a worker created it)."""
        try:
            return await self.nats.jetstream().consumer_info(JOBS_STREAM, DURABLE)
        except NotFoundError:
            return None

    async def wait_for_pullers(self, count: int, within: float = 10.0) -> None:
        """Until `count` workers are waiting on the jobs consumer (so that each takes a share of new jobs)."""

        async def pulling() -> bool:
            info = await self.consumer_info()
            return info is not None and (info.num_waiting or 0) >= count

        await eventually(pulling, within, what=f"{count} workers pulling jobs")

    # Applications ----------------------------------------------------------------------------------------

    async def create(
        self,
        country: str,
        *,
        document: str | None = None,
        amount: str | None = None,
        income: str | None = None,
        term_months: int = 0,
    ) -> application_pb2.Application:
        """An application through intake's CreateApplication, as an analyst; the country's typical figures
        unless told otherwise."""
        request = create_request(
            country, rng=self.rng, document=document, amount=amount, income=income, term_months=term_months
        )
        response = await self.intake_client("analyst").CreateApplication(request)
        return response.application

    async def create_many(self, countries: Iterable[str], *, concurrency: int = 16) -> list[str]:
        """One application per entry of `countries` (random applicants), created concurrently; their names."""
        client = self.intake_client("analyst")
        gate = asyncio.Semaphore(concurrency)

        async def create(country: str) -> str:
            async with gate:
                request = create_request(country, rng=self.rng)
                return (await client.CreateApplication(request)).application.name

        return list(await asyncio.gather(*(create(country) for country in countries)))

    async def get(self, name: str) -> application_pb2.Application:
        client = self.intake_client("analyst")
        return (await client.GetApplication(intake_service_pb2.GetApplicationRequest(name=name))).application

    async def statuses(self, names: Sequence[str]) -> dict[str, str]:
        """Each application's status, straight from intake's database."""
        rows = await self.db.fetch(
            "SELECT id, status FROM applications WHERE id = ANY($1::uuid[])",
            [application_id(name) for name in names],
        )
        found = {f"applications/{row['id']}": str(row["status"]) for row in rows}
        return {name: found.get(name, "MISSING") for name in names}

    async def wait_statuses(
        self, names: Sequence[str], accepted: Iterable[str], within: float = 15.0
    ) -> dict[str, str]:
        """Until every application is in one of the `accepted` statuses; their statuses."""
        wanted = frozenset(accepted)

        async def reached() -> dict[str, str] | None:
            statuses = await self.statuses(names)
            return statuses if all(status in wanted for status in statuses.values()) else None

        waiting = f"{len(names)} application(s) in {sorted(wanted)}"
        result: dict[str, str] = await eventually(reached, within, what=waiting)
        return result

    async def wait_decided(
        self, names: Sequence[str], within: float = 15.0
    ) -> dict[str, application_pb2.Application]:
        """Until every application is decided (APPROVED, REJECTED or UNDER_REVIEW); as intake shows them."""
        await self.wait_statuses(names, DECIDED, within)
        applications = await asyncio.gather(*(self.get(name) for name in names))
        return dict(zip(names, applications, strict=True))

    async def decision_rows(self, names: Sequence[str]) -> dict[str, list[str]]:
        """The job ids of the decisions intake stored for each application (one row per decision)."""
        rows = await self.db.fetch(
            "SELECT application_id, job_id FROM decisions WHERE application_id = ANY($1::uuid[]) ORDER BY id",
            [application_id(name) for name in names],
        )
        found: dict[str, list[str]] = {name: [] for name in names}
        for row in rows:
            found[f"applications/{row['application_id']}"].append(str(row["job_id"]))
        return found

    async def status_changes(self, names: Sequence[str]) -> dict[str, list[tuple[str, str, str, str]]]:
        """Each application's audit trail of status changes: (from, to, actor, reason), oldest first."""
        rows = await self.db.fetch(
            "SELECT application_id, from_status, to_status, actor, reason FROM application_events "
            "WHERE kind = 'STATUS_CHANGED' AND application_id = ANY($1::uuid[]) ORDER BY id",
            [application_id(name) for name in names],
        )
        found: dict[str, list[tuple[str, str, str, str]]] = {name: [] for name in names}
        for row in rows:
            found[f"applications/{row['application_id']}"].append(
                (str(row["from_status"]), str(row["to_status"]), str(row["actor"]), str(row["reason"]))
            )
        return found

    # The bureau ------------------------------------------------------------------------------------------

    async def inject_fault(
        self,
        country: str,
        kind: bureau_service_pb2.FaultKind.ValueType,
        *,
        failure_rate: str = "",
        added_latency: float | None = None,
    ) -> None:
        request = bureau_service_pb2.InjectFaultRequest(
            country=country_of(country), kind=kind, failure_rate=failure_rate
        )
        if added_latency is not None:
            request.added_latency.CopyFrom(seconds(added_latency))
        await self.bureau_client("admin").InjectFault(request)

    async def slow_bureau(self, country: str, latency: float) -> None:
        """Every call to the country's bureau takes `latency` seconds more (and still succeeds)."""
        await self.inject_fault(
            country, bureau_service_pb2.FAULT_KIND_FLAKY, failure_rate="0", added_latency=latency
        )

    async def clear_fault(self, country: str) -> None:
        await self.inject_fault(country, bureau_service_pb2.FAULT_KIND_NONE)

    async def circuit(self, country: str) -> bureau_service_pb2.Circuit:
        response = await self.bureau_client("analyst").ListCircuits(bureau_service_pb2.ListCircuitsRequest())
        return next(circuit for circuit in response.circuits if circuit.country == country_of(country))


@asynccontextmanager
async def running_stack(
    database_url: str,
    nats_url: str,
    issuer: TokenIssuer,
    *,
    tracer_provider: TracerProvider | None = None,
    **bureau_overrides: Any,
) -> AsyncIterator[Stack]:
    """Intake (with its relay) on `database_url` and a bureau-gateway, on free ports; streams reset."""
    await reset_streams(nats_url)
    intake = await build_intake(
        intake_settings(database_url, nats_url, issuer), tracer_provider=tracer_provider
    )
    await intake.start()
    # The relay declares the INTAKE stream on first use: declare it now, so a worker binds at once.
    await intake.link.jetstream()
    try:
        async with running_bureau(issuer, tracer_provider=tracer_provider, **bureau_overrides) as bureau:
            db = await asyncpg.connect(database_url)
            nats = await connect_nats(nats_url, name="scoring-tests")
            stack = Stack(issuer, nats_url, database_url, intake, bureau, Clients(issuer), db, nats)
            try:
                yield stack
            finally:
                await stack.stop_all_scoring()
                await stack.clients.close()
                await nats.close()
                await db.close()
    finally:
        await intake.stop(grace=1.0)
        await reset_streams(nats_url)
