"""What the shim's tests share: a bank that builds confirmations, signs them the Standard Webhooks way and
delivers them; snapshots of an application; captured JSON log lines."""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import grpc.aio

from globalcredit.intake.v1 import intake_service_pb2_grpc
from svckit.auth import TokenIssuer
from svckit.client import client_channel
from webhook_shim.app import WebhookShim
from webhook_shim.signatures import WebhookSecret, sign

ShimFactory = Callable[..., Awaitable[WebhookShim]]
"""`await start_shim(**settings)`: a shim in front of the test intake."""


def confirmation(
    application: str,
    *,
    verified: bool = True,
    disbursed: bool = True,
    amount: str | None = "12000.00",
    currency: str = "EUR",
    bank_reference: str = "BANK-REF-0001",
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "application": application,
        "bank_reference": bank_reference,
        "identity_verified": verified,
        "disbursed": disbursed,
        "occurred_at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
    }
    if amount is not None and disbursed:
        payload["amount_disbursed"] = {"currency_code": currency, "amount": amount}
    return payload


def new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]

    @property
    def reason(self) -> str:
        if isinstance(self.body, dict) and "error" in self.body:
            return str(self.body["error"]["reason"])
        return ""

    @property
    def violated_fields(self) -> list[str]:
        return [violation["field"] for violation in self.body["error"]["field_violations"]]


class Bank:
    """Delivers to one shim URL, signing with its secrets (several while it rotates them)."""

    def __init__(self, http: aiohttp.ClientSession, url: str, secrets: Sequence[WebhookSecret]) -> None:
        self.http = http
        self.url = url
        self.secrets = list(secrets)

    def headers(
        self,
        body: bytes,
        *,
        webhook_id: str | None = None,
        timestamp: int | None = None,
        secrets: Sequence[WebhookSecret] | None = None,
    ) -> dict[str, str]:
        return {
            **sign(
                self.secrets if secrets is None else secrets,
                webhook_id or new_webhook_id(),
                int(time.time()) if timestamp is None else timestamp,
                body,
            ),
            "content-type": "application/json",
        }

    async def deliver(
        self,
        payload: Mapping[str, Any] | bytes,
        *,
        webhook_id: str | None = None,
        timestamp: int | None = None,
        secrets: Sequence[WebhookSecret] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Answer:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = self.headers(body, webhook_id=webhook_id, timestamp=timestamp, secrets=secrets)
        return await self.post(body, {**headers, **(extra_headers or {})})

    async def post(self, body: Any, headers: Mapping[str, str]) -> Answer:
        async with self.http.post(self.url, data=body, headers=dict(headers)) as response:
            text = await response.text()
            try:
                parsed: Any = json.loads(text)
            except ValueError:
                parsed = text
            return Answer(response.status, parsed, {k.lower(): v for k, v in response.headers.items()})


@dataclass(frozen=True)
class Snapshot:
    """What a refused delivery must leave untouched: the etag, the status, the confirmations, the audit."""

    etag: str
    status: int
    confirmations: int
    events: tuple[Any, ...]


Snapshotter = Callable[[str], Awaitable[Snapshot]]


class JsonLogs:
    """Every log record of a test, formatted as the service formats it (svckit's JSON lines)."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


@dataclass
class IntakeUnderTest:
    """A running intake, the database behind it, and clients that carry a token of a role."""

    address: str
    database_url: str
    issuer: TokenIssuer
    _channels: list[grpc.aio.Channel] = field(default_factory=list)

    def client(self, *roles: str, subject: str = "") -> intake_service_pb2_grpc.IntakeServiceStub:
        token = self.issuer.mint(subject or f"{roles[0]}-{uuid.uuid4().hex[:6]}", roles)
        channel = client_channel(self.address, token_provider=lambda: token, tracing=False)
        self._channels.append(channel)
        return intake_service_pb2_grpc.IntakeServiceStub(channel)

    def service_token(self) -> str:
        """What the shim presents: a service identity, as the platform would mount it."""
        return self.issuer.mint("webhook-shim", ("service",))

    async def close(self) -> None:
        await asyncio.gather(*(channel.close() for channel in self._channels))
