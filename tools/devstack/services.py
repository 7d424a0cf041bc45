"""The services the dev stack runs, as a table: one function per service says how to run it.

To add a service: declare its ports as `PortSetting`s, write a function `StackContext -> Service` like
`intake` below, and append it to `SERVICES`, in start order (a service starts after everything before it
reports ready). Envoy, the gateway, comes last: it is the door to all the others.
"""

from __future__ import annotations

import json
import shlex
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from google.protobuf import json_format

from bureau_gateway.sandbox import render_sandbox_table
from devstack import envoy as gateway
from devstack.config import ConfigError, PortSetting, StackConfig
from devstack.secrets import DevSecrets
from devstack.tokens import AUDIENCE, ISSUER, SERVICE_TOKEN_TTL, mint_token
from samples.applications import create_request


@dataclass(frozen=True)
class StackContext:
    """What service settings are made from: the configuration, the secrets, where the infrastructure is."""

    config: StackConfig
    secrets: DevSecrets
    nats_url: str
    local_database_url: Callable[[str], str] | None
    """The URL of a database in the stack's own PostgreSQL; None when DATABASE_URL points elsewhere."""

    def database_url(self, name: str) -> str:
        """The URL of the database `name` (a service's own), or DATABASE_URL when that is set."""
        if self.local_database_url is None:
            assert self.config.external_database_url is not None
            return self.config.external_database_url
        return self.local_database_url(name)

    def listen_address(self, setting: PortSetting) -> str:
        return self.config.listen_address(setting)


@dataclass(frozen=True)
class Service:
    """How to run one service: its command, its environment, and how to tell it is ready."""

    name: str
    argv: tuple[str, ...]
    address: str
    """Where it listens (host:port). It is ready when `grpc.health.v1.Health/Check` there says SERVING,
    or, with `http_health_path`, when that path answers 200."""
    environment: Mapping[str, str]
    ports: tuple[PortSetting, ...] = ()
    """Every port it binds, checked free before anything starts."""
    database: str | None = None
    """The database it owns, created in the stack's PostgreSQL before it starts."""
    migrate_argv: tuple[str, ...] | None = None
    """Run once, with `environment`, before any service starts."""
    endpoints: tuple[tuple[str, str], ...] = ()
    """(what, where) pairs for the summary."""
    examples: tuple[str, ...] = ()
    """Commands to try it, for the summary; `$TOKEN` stands for a development token."""
    http_health_path: str | None = None
    """For a service without gRPC: the HTTP path that answers 200 once it is ready."""
    health_address: str | None = None
    """Where `http_health_path` is asked, when not at `address` (Envoy's admin interface)."""
    files: tuple[tuple[Path, str], ...] = ()
    """(path, content) pairs written just before it starts (Envoy's rendered configuration)."""
    appendix: str = ""
    """Text for the end of the summary (bureau-gateway's sandbox identities)."""


ServiceFactory = Callable[[StackContext], Service]


INTAKE_PORT = PortSetting("GCC_INTAKE_PORT", 50051, "intake gRPC")
INTAKE_METRICS_PORT = PortSetting("GCC_INTAKE_METRICS_PORT", 9101, "intake Prometheus metrics")


def intake(context: StackContext) -> Service:
    grpc_address = context.listen_address(INTAKE_PORT)
    metrics_address = context.listen_address(INTAKE_METRICS_PORT)
    secrets = context.secrets
    return Service(
        name="intake",
        argv=(sys.executable, "-m", "intake"),
        migrate_argv=(sys.executable, "-m", "intake", "migrate"),
        address=grpc_address,
        ports=(INTAKE_PORT, INTAKE_METRICS_PORT),
        database="intake",
        environment={
            "DATABASE_URL": context.database_url("intake"),
            "NATS_URL": context.nats_url,
            "INTAKE_GRPC_LISTEN": grpc_address,
            "INTAKE_METRICS_LISTEN": metrics_address,
            **_auth(context),
            "INTAKE_PII_KEYS": json.dumps(dict(secrets.pii_keys)),
            "INTAKE_PII_CURRENT_KEY_ID": secrets.pii_current_key_id,
            "INTAKE_BLIND_INDEX_KEY": secrets.blind_index_key,
        },
        endpoints=(
            ("gRPC (reflection on)", grpc_address),
            ("metrics", f"http://{metrics_address}/metrics"),
        ),
        examples=intake_examples(grpc_address),
    )


def intake_examples(address: str) -> tuple[str, ...]:
    """Through server reflection: with the bundled JSON client, or grpcurl where it is installed."""
    application = {
        "country": "COUNTRY_ES",
        "applicant": {"full_name": "Ana García López", "identity_document": "12345678Z"},
        "requested_amount": {"currency_code": "EUR", "amount": "12000.00"},
        "monthly_income": {"currency_code": "EUR", "amount": "3200.00"},
        "consent": {
            "granted_at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "channel": "CONSENT_CHANNEL_WEB",
            "reference": "consent-0001",
        },
    }
    create = shlex.quote(
        json.dumps({"application": application, "request_id": str(uuid.uuid4())}, ensure_ascii=False)
    )
    call = ".venv/bin/python -m devstack call"
    return (
        f"{call} IntakeService/CreateApplication {create}",
        f'{call} IntakeService/ListApplications \'{{"page_size": 10, "country": "COUNTRY_ES"}}\'',
        f'{call} IntakeService/GetApplication \'{{"name": "applications/<id>"}}\'',
        f'grpcurl -plaintext -H "authorization: Bearer $TOKEN" {address} describe '
        "globalcredit.intake.v1.IntakeService",
    )


BUREAU_PORT = PortSetting("GCC_BUREAU_GATEWAY_PORT", 50053, "bureau-gateway gRPC")
BUREAU_METRICS_PORT = PortSetting(
    "GCC_BUREAU_GATEWAY_METRICS_PORT", 9103, "bureau-gateway Prometheus metrics"
)


def bureau_gateway(context: StackContext) -> Service:
    grpc_address = context.listen_address(BUREAU_PORT)
    metrics_address = context.listen_address(BUREAU_METRICS_PORT)
    return Service(
        name="bureau-gateway",
        argv=(sys.executable, "-m", "bureau_gateway"),
        address=grpc_address,
        ports=(BUREAU_PORT, BUREAU_METRICS_PORT),
        environment={
            **_auth(context),
            "BUREAU_GRPC_LISTEN": grpc_address,
            "BUREAU_METRICS_LISTEN": metrics_address,
            # Development only: lets tests and demonstrations make a bureau fail on purpose.
            "BUREAU_FAULT_INJECTION_ENABLED": "true",
        },
        endpoints=(
            ("gRPC (internal)", grpc_address),
            ("metrics", f"http://{metrics_address}/metrics"),
        ),
        examples=(
            f".venv/bin/python -m devstack call --role admin --address {grpc_address} "
            "BureauService/ListCircuits",
        ),
        appendix=render_sandbox_table(),
    )


SCORING_PORT = PortSetting("GCC_SCORING_PORT", 50052, "scoring gRPC")
SCORING_METRICS_PORT = PortSetting("GCC_SCORING_METRICS_PORT", 9102, "scoring Prometheus metrics")


def scoring(context: StackContext) -> Service:
    grpc_address = context.listen_address(SCORING_PORT)
    metrics_address = context.listen_address(SCORING_METRICS_PORT)
    return Service(
        name="scoring",
        argv=(sys.executable, "-m", "scoring"),
        address=grpc_address,
        ports=(SCORING_PORT, SCORING_METRICS_PORT),
        environment={
            **_auth(context),
            "NATS_URL": context.nats_url,
            "SERVICE_TOKEN": mint_token(context.secrets, "service", subject="scoring", ttl=SERVICE_TOKEN_TTL),
            "SCORING_GRPC_LISTEN": grpc_address,
            "SCORING_METRICS_LISTEN": metrics_address,
            "SCORING_INTAKE_ADDRESS": context.listen_address(INTAKE_PORT),
            "SCORING_BUREAU_ADDRESS": context.listen_address(BUREAU_PORT),
        },
        endpoints=(
            ("gRPC (reflection on)", grpc_address),
            ("metrics", f"http://{metrics_address}/metrics"),
        ),
        examples=(
            f".venv/bin/python -m devstack call --address {grpc_address} ScoringService/GetRuleSet "
            '\'{"country": "COUNTRY_ES"}\'',
            f".venv/bin/python -m devstack call --role admin --address {grpc_address} "
            "ScoringService/ListDeadLetters",
        ),
    )


WEBHOOK_SHIM_PORT = PortSetting("GCC_WEBHOOK_SHIM_PORT", 8090, "bank webhook shim HTTP")
WEBHOOK_SHIM_METRICS_PORT = PortSetting(
    "GCC_WEBHOOK_SHIM_METRICS_PORT", 9105, "webhook shim Prometheus metrics"
)


def webhook_shim(context: StackContext) -> Service:
    http_address = context.listen_address(WEBHOOK_SHIM_PORT)
    metrics_address = context.listen_address(WEBHOOK_SHIM_METRICS_PORT)
    url = f"http://{http_address}/webhooks/bank-confirmations"
    return Service(
        name="webhook-shim",
        argv=(sys.executable, "-m", "webhook_shim"),
        address=http_address,
        http_health_path="/healthz",
        ports=(WEBHOOK_SHIM_PORT, WEBHOOK_SHIM_METRICS_PORT),
        environment={
            "SERVICE_TOKEN": mint_token(
                context.secrets, "service", subject="webhook-shim", ttl=SERVICE_TOKEN_TTL
            ),
            "WEBHOOK_SHIM_SECRETS": context.secrets.webhook_secret,
            "WEBHOOK_SHIM_INTAKE_ADDRESS": context.listen_address(INTAKE_PORT),
            "WEBHOOK_SHIM_HTTP_LISTEN": http_address,
            "WEBHOOK_SHIM_METRICS_LISTEN": metrics_address,
        },
        endpoints=(
            ("bank confirmations (HTTP)", url),
            ("metrics", f"http://{metrics_address}/metrics"),
        ),
        examples=("make webhook APPLICATION=applications/<id>   # signs and sends a bank confirmation",),
    )


NOTIFIER_PORT = PortSetting("GCC_NOTIFIER_PORT", 50054, "notifier gRPC")
NOTIFIER_METRICS_PORT = PortSetting("GCC_NOTIFIER_METRICS_PORT", 9104, "notifier Prometheus metrics")


def notifier(context: StackContext) -> Service:
    grpc_address = context.listen_address(NOTIFIER_PORT)
    metrics_address = context.listen_address(NOTIFIER_METRICS_PORT)
    return Service(
        name="notifier",
        argv=(sys.executable, "-m", "notifier"),
        address=grpc_address,
        ports=(NOTIFIER_PORT, NOTIFIER_METRICS_PORT),
        environment={
            **_auth(context),
            "NATS_URL": context.nats_url,
            "NOTIFIER_GRPC_LISTEN": grpc_address,
            "NOTIFIER_METRICS_LISTEN": metrics_address,
        },
        endpoints=(
            ("gRPC (WatchApplications)", grpc_address),
            ("metrics", f"http://{metrics_address}/metrics"),
        ),
    )


CONSOLE_SERVER_PORT = PortSetting("GCC_CONSOLE_SERVER_PORT", 8092, "console's files, behind the gateway")
CONSOLE_DIST = "web/dist"


def console(context: StackContext) -> Service:
    """The console's built files, served behind the gateway on its origin, with development sign-in
    tokens (`make run` builds `web/dist` first)."""
    address = context.listen_address(CONSOLE_SERVER_PORT)
    config = context.config
    host, port = address.rsplit(":", 1)
    return Service(
        name="console",
        argv=(
            "node",
            "web/scripts/serve-console.mjs",
            "--host",
            host,
            "--port",
            port,
            "--dir",
            CONSOLE_DIST,
            # The gateway routes API calls itself; the console calls its own origin.
            "--proxy",
            "--gateway",
            f"http://{context.listen_address(GATEWAY_PORT)}",
            "--tokens-command",
            f"{sys.executable} -m devstack token",
        ),
        address=address,
        http_health_path="/config.json",
        ports=(CONSOLE_SERVER_PORT,),
        environment={"GCC_RUN_DIR": str(config.run_dir)},
        endpoints=(("files (behind the gateway)", f"http://{address}"),),
        appendix=""
        if (config.repo_root / CONSOLE_DIST / "index.html").exists()
        else "The console is not built: `make run` builds it (or `cd web && npm run build`).",
    )


GATEWAY_PORT = PortSetting("GCC_GATEWAY_PORT", 8080, "gateway (Envoy: gRPC, grpc-web, REST/JSON)")
ENVOY_ADMIN_PORT = PortSetting("GCC_ENVOY_ADMIN_PORT", 9901, "Envoy admin (loopback only)")
CONSOLE_PORT = PortSetting("GCC_CONSOLE_PORT", 5173, "console (allowed as a CORS origin; not bound)")
CORS_ORIGINS_VARIABLE = "GCC_GATEWAY_CORS_ORIGINS"
RATE_LIMIT_VARIABLE = "GCC_GATEWAY_RATE_LIMIT"
RATE_BURST_VARIABLE = "GCC_GATEWAY_RATE_BURST"


def envoy(context: StackContext) -> Service:
    config = context.config
    gateway_address = context.listen_address(GATEWAY_PORT)
    admin_address = context.listen_address(ENVOY_ADMIN_PORT)
    settings = gateway_settings(context)
    config_path = config.run_dir / "envoy" / "envoy.yaml"
    url = f"http://{gateway_address}"
    return Service(
        name="envoy",
        # The gateway port is unique on the machine, so it makes a unique base id for Envoy's shared memory.
        argv=gateway.envoy_argv(config_path, base_id=settings.port),
        address=gateway_address,
        http_health_path="/ready",
        health_address=admin_address,
        ports=(GATEWAY_PORT, ENVOY_ADMIN_PORT),
        environment={},
        files=((config_path, gateway.render(settings)),),
        endpoints=(
            ("console", f"{url}/"),
            ("gateway (gRPC, grpc-web, REST/JSON)", url),
            ("bank webhooks", f"{url}/webhooks/bank-confirmations"),
            ("admin (/ready, /stats)", f"http://{admin_address}"),
            ("configuration", config.display(config_path)),
        ),
        examples=gateway_examples(url),
    )


def gateway_settings(context: StackContext) -> gateway.GatewaySettings:
    """The gateway in front of this stack's services, limits and CORS origins from the environment."""
    config = context.config
    port = config.port(GATEWAY_PORT)
    raw_origins = config.environ.get(CORS_ORIGINS_VARIABLE, "")
    origins = tuple(origin.strip() for origin in raw_origins.split(",") if origin.strip())
    return gateway.GatewaySettings(
        port=port,
        admin_port=config.port(ENVOY_ADMIN_PORT),
        intake=gateway.Upstream.parse(context.listen_address(INTAKE_PORT)),
        scoring=gateway.Upstream.parse(context.listen_address(SCORING_PORT)),
        notifier=gateway.Upstream.parse(context.listen_address(NOTIFIER_PORT)),
        webhook_shim=gateway.Upstream.parse(context.listen_address(WEBHOOK_SHIM_PORT)),
        console=gateway.Upstream.parse(context.listen_address(CONSOLE_SERVER_PORT)),
        jwks_path=context.secrets.jwks_path,
        issuer=ISSUER,
        audience=AUDIENCE,
        cors_origins=origins or gateway.default_cors_origins(config.port(CONSOLE_PORT), port),
        rate_limit=gateway.RateLimit(
            per_second=_positive(config.environ, RATE_LIMIT_VARIABLE, 200),
            burst=_positive(config.environ, RATE_BURST_VARIABLE, 400),
        ),
    )


def gateway_examples(url: str) -> tuple[str, ...]:
    """REST/JSON through the gateway: proto3 JSON, camelCase field names, money as decimal strings."""
    body = shlex.quote(json.dumps(json_format.MessageToDict(create_request("ES")), ensure_ascii=False))
    curl = 'curl -sS -H "authorization: Bearer $TOKEN"'
    return (
        f'{curl} "{url}/v1/applications?pageSize=5"',
        f"{curl} -H 'content-type: application/json' {url}/v1/applications -d {body}",
        f"{curl} {url}/v1/applications/<id>",
        f"{curl} -N {url}/v1/applications:watch   # status changes as they happen (Ctrl-C ends)",
    )


def _positive(environ: Mapping[str, str], variable: str, default: int) -> int:
    raw = environ.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{variable} must be a positive whole number, not {raw!r}")
    return int(raw)


def _auth(context: StackContext) -> dict[str, str]:
    return {
        "AUTH_JWKS_PATH": str(context.secrets.jwks_path),
        "AUTH_ISSUER": ISSUER,
        "AUTH_AUDIENCE": AUDIENCE,
    }


SERVICES: tuple[ServiceFactory, ...] = (
    intake,
    bureau_gateway,
    scoring,
    webhook_shim,
    notifier,
    console,
    envoy,
)
"""Every service, in start order: a service starts after those it calls."""

SERVICE_PORTS: tuple[PortSetting, ...] = (
    INTAKE_PORT,
    INTAKE_METRICS_PORT,
    BUREAU_PORT,
    BUREAU_METRICS_PORT,
    SCORING_PORT,
    SCORING_METRICS_PORT,
    WEBHOOK_SHIM_PORT,
    WEBHOOK_SHIM_METRICS_PORT,
    NOTIFIER_PORT,
    NOTIFIER_METRICS_PORT,
    GATEWAY_PORT,
    ENVOY_ADMIN_PORT,
    CONSOLE_PORT,
    CONSOLE_SERVER_PORT,
)
"""Every service port setting, for --help."""
