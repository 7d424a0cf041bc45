"""The system under test: the dev stack itself (its PostgreSQL, NATS, secrets, migrations and services,
from devstack's service table), in a run directory of its own on free ports, with durable settings.

The simulated bureaus are pinned to their defaults, SPEC §13's "simulated bureau at 20 ms" (15 ms plus
up to 10 ms, uniformly) and no failures, whatever the caller's environment says.

PostgreSQL keeps its defaults (fsync and synchronous_commit on) and JetStream syncs every write before
acknowledging it, as in the dev stack: the benchmark measures the real thing. Everything is stopped by
PID, last started first, by `stop()`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devstack.config import INFRASTRUCTURE_PORTS, StackConfig
from devstack.console import Console
from devstack.secrets import load_or_create_secrets
from devstack.services import SERVICE_PORTS, SERVICES, Service
from devstack.stack import Stack, build_context, plan_infrastructure, select_services
from devstack.tokens import mint_token
from svckit.local import LocalPostgres, free_port

SERVICE = "intake"
# Environment that would point the stack at someone else's servers or ports.
_NOT_INHERITED = ("DATABASE_URL", "NATS_URL")
# bureau-gateway's simulation (its settings' defaults, spelled out): SPEC §13's bureau at 20 ms.
BUREAU_SIMULATION = {
    "BUREAU_LATENCY_SECONDS": "0.015",
    "BUREAU_LATENCY_JITTER_SECONDS": "0.010",
    "BUREAU_FAILURE_RATE": "0",
}
# Each service's Prometheus endpoint, by devstack name: the variable that holds its host:port.
_METRICS_LISTEN = {
    "intake": "INTAKE_METRICS_LISTEN",
    "scoring": "SCORING_METRICS_LISTEN",
    "bureau-gateway": "BUREAU_METRICS_LISTEN",
}


@dataclass(frozen=True)
class SystemUnderTest:
    """Where the started stack answers, and the PIDs whose CPU the benchmark measures."""

    intake_address: str
    database_url: str
    """Intake's own database."""
    token: str
    """An analyst's bearer token (analysts may create applications)."""
    postgres: LocalPostgres
    nats_url: str
    pids: Mapping[str, int]
    """By component: "PostgreSQL", "NATS", "intake", "bureau-gateway", "scoring", …"""
    run_dir: Path
    metrics_urls: Mapping[str, str] = field(default_factory=dict)
    """Each service's Prometheus /metrics, by devstack name."""
    bureau_simulation: Mapping[str, str] = field(default_factory=dict)
    """The simulated bureaus' settings that bureau-gateway was given."""


def make_run_dir() -> Path:
    """A new directory on disk (not a RAM disk, where fsync is free) that the postgres OS user may enter.

    /var/tmp is meant to be disk-backed; /tmp is a tmpfs on some machines.
    """
    base = Path("/var/tmp") if Path("/var/tmp").is_dir() else Path(tempfile.gettempdir())  # noqa: S108
    path = Path(tempfile.mkdtemp(prefix="gcc-bench-", dir=base))
    # PostgreSQL runs as the postgres OS user when we are root; it must pass through to its data directory.
    path.chmod(0o711)
    return path


def bench_environment(run_dir: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The dev stack's environment for a private run: state in `run_dir`, every port a free one."""
    source = os.environ if environ is None else environ
    environment = {
        name: value
        for name, value in source.items()
        if name not in _NOT_INHERITED and not name.startswith("GCC_")
    }
    environment["GCC_RUN_DIR"] = str(run_dir)
    environment.update(BUREAU_SIMULATION)
    for setting in (*INFRASTRUCTURE_PORTS, *SERVICE_PORTS):
        environment[setting.env_var] = str(free_port())
    return environment


class BenchStack:
    """The dev stack for one benchmark run: `start()`, measure, `stop()` (safe to repeat)."""

    def __init__(self, run_dir: Path, console: Console) -> None:
        self.run_dir = run_dir
        self.config = StackConfig.from_env(bench_environment(run_dir))
        self._stack = Stack(self.config, console=console)

    def start(self) -> SystemUnderTest:
        self._stack.start()
        config = self.config
        secrets = load_or_create_secrets(config.secrets_dir)
        context = build_context(config, secrets, plan_infrastructure(config))
        services = {service.name: service for service in select_services(context, SERVICES)}
        intake = services[SERVICE]
        started = self._stack.started
        postgres = next(component for _, component in started if isinstance(component, LocalPostgres))
        return SystemUnderTest(
            intake_address=intake.address,
            database_url=intake.environment["DATABASE_URL"],
            token=mint_token(secrets, "analyst", subject="bench-analyst"),
            postgres=postgres,
            pids={name: component.pid for name, component in started},
            run_dir=self.run_dir,
            nats_url=intake.environment["NATS_URL"],
            metrics_urls={
                name: f"http://{services[name].environment[variable]}/metrics"
                for name, variable in _METRICS_LISTEN.items()
                if name in services and variable in services[name].environment
            },
            bureau_simulation=_bureau_simulation(config.environ, services.get("bureau-gateway")),
        )

    def stop(self) -> None:
        self._stack.stop()

    def remove_run_dir(self) -> None:
        shutil.rmtree(self.run_dir, ignore_errors=True)


def _bureau_simulation(environ: Mapping[str, str], bureau: Service | None) -> dict[str, str]:
    """What bureau-gateway's simulation settings are, as the stack started it (its own environment wins)."""
    if bureau is None:
        return {}
    given = {**environ, **bureau.environment}
    return {name: given[name] for name in BUREAU_SIMULATION if name in given}
