"""The system under test: the dev stack itself (its PostgreSQL, NATS, secrets, migrations and intake, from
devstack's service table), in a run directory of its own on free ports, with durable settings.

PostgreSQL keeps its defaults (fsync and synchronous_commit on) and JetStream syncs every write before
acknowledging it, as in the dev stack: the benchmark measures the real thing. Everything is stopped by
PID, last started first, by `stop()`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from devstack.config import INFRASTRUCTURE_PORTS, StackConfig
from devstack.console import Console
from devstack.secrets import load_or_create_secrets
from devstack.services import SERVICE_PORTS, SERVICES
from devstack.stack import Stack, build_context, plan_infrastructure, select_services
from devstack.tokens import mint_token
from svckit.local import LocalPostgres, free_port

SERVICE = "intake"
# Environment that would point the stack at someone else's servers or ports.
_NOT_INHERITED = ("DATABASE_URL", "NATS_URL")


@dataclass(frozen=True)
class SystemUnderTest:
    """Where the started stack answers, and the PIDs whose CPU the benchmark measures."""

    intake_address: str
    database_url: str
    """Intake's own database."""
    token: str
    """An analyst's bearer token (analysts may create applications)."""
    postgres: LocalPostgres
    pids: Mapping[str, int]
    """By component: "PostgreSQL", "NATS", "intake"."""
    run_dir: Path


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
            intake_address=intake.grpc_address,
            database_url=intake.environment["DATABASE_URL"],
            token=mint_token(secrets, "analyst", subject="bench-analyst"),
            postgres=postgres,
            pids={name: component.pid for name, component in started},
            run_dir=self.run_dir,
        )

    def stop(self) -> None:
        self._stack.stop()

    def remove_run_dir(self) -> None:
        shutil.rmtree(self.run_dir, ignore_errors=True)
