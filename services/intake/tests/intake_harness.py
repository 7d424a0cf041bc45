"""Intake under test: its settings for a database and a NATS server, and a running server with clients
that carry a token of any role. Shared by intake's tests and by other services' end-to-end tests."""

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import grpc

from globalcredit.intake.v1 import intake_service_pb2_grpc
from intake.app import IntakeApp, build
from intake.pii import Keyring
from intake.settings import IntakeSettings
from svckit.auth import TokenIssuer
from svckit.client import client_channel

ISSUER = "globalcredit-test"
AUDIENCE = "globalcredit"


def settings_for(database_url: str, nats_url: str, issuer: TokenIssuer, keyring: Keyring) -> IntakeSettings:
    return IntakeSettings(
        database_url=database_url,
        nats_url=nats_url,
        grpc_listen="127.0.0.1:0",
        metrics_listen="127.0.0.1:0",
        auth_jwks_json=json.dumps(issuer.jwks()),
        auth_issuer=ISSUER,
        auth_audience=AUDIENCE,
        pii_keys=json.dumps({key_id: base64.b64encode(key).decode() for key_id, key in keyring.keys.items()}),
        pii_current_key_id=keyring.current_key_id,
        blind_index_key=base64.b64encode(keyring.blind_index_key).decode(),
        outbox_safety_poll_seconds=1.0,
    )


@dataclass
class RunningIntake:
    """An intake server under test, and clients for it that carry a token of a given role."""

    app: IntakeApp
    address: str
    database_url: str
    issuer: TokenIssuer
    _channels: list[grpc.aio.Channel] = field(default_factory=list)

    def client(
        self,
        *roles: str,
        subject: str | None = None,
        partner_id: str | None = None,
        permissions: tuple[str, ...] = (),
    ) -> intake_service_pb2_grpc.IntakeServiceStub:
        roles = roles or ("analyst",)
        token = self.issuer.mint(
            subject or f"{roles[0]}-{uuid.uuid4().hex[:6]}",
            roles,
            partner_id=partner_id,
            permissions=permissions,
        )
        return self.client_with_token(token)

    def client_with_token(self, token: str) -> intake_service_pb2_grpc.IntakeServiceStub:
        channel = client_channel(self.address, token_provider=lambda: token, tracing=False)
        self._channels.append(channel)
        return intake_service_pb2_grpc.IntakeServiceStub(channel)

    def anonymous(self) -> intake_service_pb2_grpc.IntakeServiceStub:
        channel = grpc.aio.insecure_channel(self.address)
        self._channels.append(channel)
        return intake_service_pb2_grpc.IntakeServiceStub(channel)

    async def close_clients(self) -> None:
        await asyncio.gather(*(channel.close() for channel in self._channels))


@asynccontextmanager
async def running_intake(settings: IntakeSettings, issuer: TokenIssuer) -> AsyncIterator[RunningIntake]:
    app = await build(settings)
    await app.start()
    running = RunningIntake(app, f"127.0.0.1:{app.server.port}", settings.database_url, issuer)
    try:
        yield running
    finally:
        await running.close_clients()
        await app.stop(grace=1.0)
