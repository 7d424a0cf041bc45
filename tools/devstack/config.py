"""The dev stack's configuration: ports and paths, from environment variables with working defaults.

Environment (every variable optional):

    GCC_RUN_DIR              state: databases, logs, development secrets   (default: <repo>/.run)
    GCC_POSTGRES_PORT        PostgreSQL                                     (default: 15432)
    GCC_NATS_PORT            NATS clients                                   (default: 14222)
    GCC_NATS_MONITOR_PORT    NATS HTTP monitoring (/healthz, /jsz)          (default: 18222)
    GCC_<SERVICE>_PORT, GCC_<SERVICE>_METRICS_PORT    each service's gRPC and metrics ports (see --help)
    GCC_START_TIMEOUT        seconds each server gets to become ready       (default: 60)
    GCC_GATEWAY_CORS_ORIGINS, GCC_GATEWAY_RATE_LIMIT, GCC_GATEWAY_RATE_BURST   the gateway (see --help)
    DATABASE_URL             use this PostgreSQL database instead of starting one; every service shares it
    NATS_URL                 use this NATS (with JetStream) instead of starting one

The defaults stay clear of 5432 and 4222, which a machine's own PostgreSQL and NATS often hold.
Inside the run directory: `pg/` (PostgreSQL data), `nats/` (JetStream store), `logs/<name>.log`,
`secrets/` (generated development keys, never committed: `.run/` is in .gitignore).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"


class ConfigError(ValueError):
    """An environment variable holds something the dev stack cannot use."""


@dataclass(frozen=True)
class PortSetting:
    """A port the dev stack binds, named by the environment variable that overrides its default."""

    env_var: str
    default: int
    purpose: str

    def read(self, environ: Mapping[str, str]) -> int:
        raw = environ.get(self.env_var, "").strip()
        if not raw:
            return self.default
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise ConfigError(f"{self.env_var} must be a port number (1-65535), not {raw!r}")
        return int(raw)


POSTGRES_PORT = PortSetting("GCC_POSTGRES_PORT", 15432, "PostgreSQL")
NATS_PORT = PortSetting("GCC_NATS_PORT", 14222, "NATS clients")
NATS_MONITOR_PORT = PortSetting("GCC_NATS_MONITOR_PORT", 18222, "NATS HTTP monitoring")
INFRASTRUCTURE_PORTS = (POSTGRES_PORT, NATS_PORT, NATS_MONITOR_PORT)

DEFAULT_START_TIMEOUT = 60.0


def repo_root() -> Path:
    """The repository this launcher belongs to (it is installed in editable mode); else the cwd."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "tools" / "devstack").is_dir() else Path.cwd()


@dataclass(frozen=True)
class StackConfig:
    """Where the dev stack keeps its state and which ports it uses."""

    repo_root: Path
    run_dir: Path
    external_database_url: str | None
    external_nats_url: str | None
    start_timeout: float
    environ: Mapping[str, str] = field(repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackConfig:
        env = dict(os.environ if environ is None else environ)
        root = repo_root()
        run_dir = Path(env["GCC_RUN_DIR"]).absolute() if env.get("GCC_RUN_DIR") else root / ".run"
        raw_timeout = env.get("GCC_START_TIMEOUT", "").strip()
        try:
            start_timeout = float(raw_timeout) if raw_timeout else DEFAULT_START_TIMEOUT
        except ValueError:
            raise ConfigError(f"GCC_START_TIMEOUT must be a number of seconds, not {raw_timeout!r}") from None
        config = cls(
            repo_root=root,
            run_dir=run_dir,
            external_database_url=env.get("DATABASE_URL") or None,
            external_nats_url=env.get("NATS_URL") or None,
            start_timeout=start_timeout,
            environ=env,
        )
        for setting in INFRASTRUCTURE_PORTS:
            config.port(setting)  # a malformed port fails here, before anything starts
        return config

    def port(self, setting: PortSetting) -> int:
        return setting.read(self.environ)

    def listen_address(self, setting: PortSetting) -> str:
        return f"{LOOPBACK}:{self.port(setting)}"

    @property
    def postgres_data_dir(self) -> Path:
        return self.run_dir / "pg"

    @property
    def nats_store_dir(self) -> Path:
        return self.run_dir / "nats"

    @property
    def logs_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def secrets_dir(self) -> Path:
        return self.run_dir / "secrets"

    def log_file(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    def display(self, path: Path) -> str:
        """`path` relative to the repository when inside it, for shorter progress lines."""
        try:
            return str(path.relative_to(self.repo_root))
        except ValueError:
            return str(path)
