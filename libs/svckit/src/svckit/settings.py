"""Typed settings from the environment: the base every service's settings class extends.

A service's own settings use its prefix (`INTAKE_GRPC_LISTEN`); shared ones use plain names
(`DATABASE_URL`, `NATS_URL`, `AUTH_JWKS`, `OTEL_EXPORTER_OTLP_ENDPOINT`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def split_host_port(address: str) -> tuple[str, int]:
    """`"127.0.0.1:9100"` → `("127.0.0.1", 9100)`; `"[::1]:9100"` → `("::1", 9100)`."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected host:port, got {address!r}")
    return host.removeprefix("[").removesuffix("]"), int(port)


class _Settings(BaseSettings):
    # Fields with a validation_alias (the shared, unprefixed names) are read without the service's prefix.
    model_config = SettingsConfigDict(extra="ignore", validate_by_name=True, validate_by_alias=True)


class ServiceSettings(_Settings):
    """What every service needs. Subclass it with `model_config = SettingsConfigDict(env_prefix="X_")`."""

    grpc_listen: str = Field(
        default="127.0.0.1:50051",
        description="host:port the gRPC server binds; port 0 picks a free port.",
    )
    metrics_listen: str = Field(
        default="127.0.0.1:9100",
        description="host:port of the Prometheus /metrics endpoint; port 0 picks a free port.",
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL.")
    shutdown_grace_seconds: float = Field(
        default=10.0,
        ge=0,
        description="On SIGTERM, how long in-flight RPCs may run before they are cancelled.",
    )
    shutdown_drain_seconds: float = Field(
        default=0.0,
        ge=0,
        description=(
            "On SIGTERM, how long to keep serving while health reports NOT_SERVING, so load balancers "
            "stop routing here before the server stops accepting calls (a few seconds on Kubernetes)."
        ),
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT",
        description="OTLP/gRPC collector (http://host:4317); unset exports no spans.",
    )
    auth_jwks_path: Path | None = Field(
        default=None,
        validation_alias="AUTH_JWKS_PATH",
        description="File holding the JWKS that bearer tokens are verified against.",
    )
    auth_jwks_json: str | None = Field(
        default=None,
        validation_alias="AUTH_JWKS",
        description="The JWKS itself, as JSON (instead of AUTH_JWKS_PATH).",
    )
    auth_issuer: str = Field(
        default="globalcredit-dev",
        validation_alias="AUTH_ISSUER",
        description="Required `iss` claim.",
    )
    auth_audience: str = Field(
        default="globalcredit",
        validation_alias="AUTH_AUDIENCE",
        description="Required `aud` claim.",
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    @field_validator("grpc_listen", "metrics_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        split_host_port(value)
        return value

    @model_validator(mode="after")
    def _jwks_given(self) -> Self:
        if self.auth_jwks_path is None and not self.auth_jwks_json:
            raise ValueError("set AUTH_JWKS_PATH or AUTH_JWKS: every service verifies bearer tokens")
        return self

    @property
    def metrics_address(self) -> tuple[str, int]:
        return split_host_port(self.metrics_listen)

    def jwks(self) -> dict[str, Any]:
        """The JWKS from AUTH_JWKS, or else the file at AUTH_JWKS_PATH."""
        text = self.auth_jwks_json
        if not text:
            assert self.auth_jwks_path is not None  # guaranteed by _jwks_given
            text = self.auth_jwks_path.read_text(encoding="utf-8")
        jwks = json.loads(text)
        if not isinstance(jwks, dict):
            raise ValueError("the JWKS must be a JSON object with a 'keys' list")
        return jwks


class DatabaseSettings(_Settings):
    """PostgreSQL, for services that own a database. Mix into the service's settings class."""

    database_url: str = Field(
        validation_alias="DATABASE_URL",
        repr=False,  # it usually carries a password
        description="postgresql:// (or postgresql+asyncpg://) URL.",
    )
    database_pool_size: int = Field(
        default=20, ge=1, description="At most this many connections per process; calls beyond wait for one."
    )
    database_statement_timeout_ms: int = Field(
        default=5000, ge=0, description="Server-side statement_timeout for every session; 0 disables."
    )


class NatsSettings(_Settings):
    """NATS JetStream, for services that publish or consume. Mix into the service's settings class."""

    nats_url: str = Field(
        validation_alias="NATS_URL",
        description="nats://host:port; several servers separated by commas.",
    )

    @property
    def nats_servers(self) -> list[str]:
        return [server.strip() for server in self.nats_url.split(",") if server.strip()]


class CallerSettings(_Settings):
    """The identity a service presents when it calls another service. Mix into the caller's settings.

    In production the platform mounts a short-lived token and rotates it (SERVICE_TOKEN_FILE, re-read
    when it changes); SERVICE_TOKEN is for development and tests.
    """

    service_token: str | None = Field(
        default=None, validation_alias="SERVICE_TOKEN", repr=False, description="A bearer token, as is."
    )
    service_token_file: Path | None = Field(
        default=None,
        validation_alias="SERVICE_TOKEN_FILE",
        description="A file holding the bearer token; read again whenever it changes.",
    )

    @model_validator(mode="after")
    def _token_given(self) -> Self:
        if not self.service_token and self.service_token_file is None:
            raise ValueError("set SERVICE_TOKEN_FILE or SERVICE_TOKEN: calls to other services carry a token")
        return self
