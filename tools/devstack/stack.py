"""Starting the dev stack in order (secrets, PostgreSQL, NATS, migrations, services), watching it, and
stopping everything it started in reverse order, by PID."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import urllib.request
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from devstack.config import (
    LOOPBACK,
    NATS_MONITOR_PORT,
    NATS_PORT,
    POSTGRES_PORT,
    ConfigError,
    PortSetting,
    StackConfig,
)
from devstack.console import Console, Summary
from devstack.secrets import DevSecrets, load_or_create_secrets
from devstack.services import SERVICES, Service, ServiceFactory, StackContext
from devstack.tokens import DEFAULT_PARTNER_ID, ROLES, mint_token
from svckit.local import LocalNats, LocalPostgres, ManagedProcess, grpc_serving, port_is_free, run_command
from svckit.local.users import user_to_run_server_as

_WATCH_INTERVAL = 0.5


class Component(Protocol):
    """Something the stack started and must stop: a server or a service process."""

    @property
    def running(self) -> bool: ...

    @property
    def pid(self) -> int: ...

    def stop(self) -> object: ...


@dataclass(frozen=True)
class Infrastructure:
    """The stack's own PostgreSQL and NATS (None where DATABASE_URL / NATS_URL point elsewhere)."""

    postgres: LocalPostgres | None
    nats: LocalNats | None
    notes: tuple[str, ...] = ()


def plan_infrastructure(config: StackConfig) -> Infrastructure:
    """The servers to start, not started yet."""
    notes: list[str] = []
    postgres = None
    if config.external_database_url is None:
        data_dir, note = _postgres_data_dir(config)
        if note:
            notes.append(note)
        postgres = LocalPostgres(
            data_dir,
            port=config.port(POSTGRES_PORT),
            host=LOOPBACK,
            log_file=config.log_file("postgres"),
            start_timeout=config.start_timeout,
        )
    nats = None
    if config.external_nats_url is None:
        nats = LocalNats(
            config.nats_store_dir,
            port=config.port(NATS_PORT),
            host=LOOPBACK,
            monitor_port=config.port(NATS_MONITOR_PORT),
            name="globalcredit-dev",
            log_file=config.log_file("nats"),
            start_timeout=config.start_timeout,
        )
    return Infrastructure(postgres, nats, tuple(notes))


def build_context(config: StackConfig, secrets: DevSecrets, infrastructure: Infrastructure) -> StackContext:
    nats_url = config.external_nats_url or (infrastructure.nats.url if infrastructure.nats else "")
    postgres = infrastructure.postgres
    return StackContext(
        config=config,
        secrets=secrets,
        nats_url=nats_url,
        local_database_url=postgres.database_url if postgres is not None else None,
    )


def select_services(
    context: StackContext, factories: Sequence[ServiceFactory], skip: Collection[str] = ()
) -> list[Service]:
    services = [factory(context) for factory in factories]
    unknown = set(skip) - {service.name for service in services}
    if unknown:
        known = ", ".join(service.name for service in services)
        raise ConfigError(f"no service named {', '.join(sorted(unknown))} (the services: {known})")
    return [service for service in services if service.name not in skip]


class Stack:
    """The whole dev stack. `start()`, then `watch()` until Ctrl-C, then `stop()` (safe to repeat)."""

    def __init__(
        self,
        config: StackConfig,
        *,
        services: Sequence[ServiceFactory] = SERVICES,
        skip: Collection[str] = (),
        console: Console | None = None,
    ) -> None:
        self.config = config
        self.console = console if console is not None else Console()
        self._factories = tuple(services)
        self._skip = frozenset(skip)
        self._started: list[tuple[str, Component]] = []

    @property
    def started(self) -> list[tuple[str, Component]]:
        """What is running now, by name, in start order."""
        return list(self._started)

    def start(self) -> Summary:
        """Start everything, each part waited for with a deadline; on failure, stop what did start."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def watch(self) -> str:
        """Block until something the stack started exits by itself, and return its name.

        Ctrl-C (and SIGTERM, when the caller maps it to KeyboardInterrupt) ends the wait by raising.
        """
        while True:
            for name, component in self._started:
                if not component.running:
                    return name
            time.sleep(_WATCH_INTERVAL)

    def stop(self) -> None:
        """Stop everything started, last first; a part that fails to stop does not keep the rest running."""
        if self._started:
            self.console.line("Stopping…")
        while self._started:
            name, component = self._started[-1]
            try:
                with self.console.step(name) as outcome:
                    pid = component.pid
                    component.stop()
                    outcome.detail = f"stopped (pid {pid})"
            except Exception:  # noqa: S110 - the step reported it; the others must still be stopped
                pass
            # Only now: a stop cut short by Ctrl-C leaves the component listed, for the next stop() to finish.
            self._started.pop()

    def _start(self) -> Summary:
        config = self.config
        self.console.line(f"Starting Global Credit Core (state in {config.display(config.run_dir)})")
        with self.console.step("Secrets") as outcome:
            secrets = load_or_create_secrets(config.secrets_dir)
            fate = f"created {', '.join(secrets.created)}" if secrets.created else "reused"
            outcome.detail = f"{config.display(secrets.directory)}  ({fate})"

        infrastructure = plan_infrastructure(config)
        context = build_context(config, secrets, infrastructure)
        services = select_services(context, self._factories, self._skip)
        with self.console.step("Ports") as outcome:
            outcome.detail = self._check_ports(infrastructure, services)

        postgres, nats = infrastructure.postgres, infrastructure.nats
        if postgres is not None:
            with self.console.step("PostgreSQL") as outcome:
                self._track("PostgreSQL", postgres)
                postgres.start()
                outcome.detail = postgres.url
            owned = [service.database for service in services if service.database]
            if owned:
                with self.console.step("Databases") as outcome:
                    for database in owned:
                        postgres.create_database(database, exist_ok=True)
                    outcome.detail = ", ".join(owned)
        else:
            self.console.line(f"• {'PostgreSQL':<14} {_redacted(context.database_url(''))}  (DATABASE_URL)")
        if nats is not None:
            with self.console.step("NATS") as outcome:
                self._track("NATS", nats)
                nats.start()
                outcome.detail = f"{nats.url}  (JetStream, monitoring {nats.monitor_url})"
        else:
            self.console.line(f"• {'NATS':<14} {_redacted(context.nats_url)}  (NATS_URL)")

        for service in services:
            if service.migrate_argv is not None:
                with self.console.step("Schema") as outcome:
                    log_file = config.log_file(f"{service.name}-migrate")
                    run_command(
                        f"{service.name} migrate",
                        service.migrate_argv,
                        log_file=log_file,
                        env=self._environment(service),
                        cwd=config.repo_root,
                        timeout=config.start_timeout,
                    )
                    outcome.detail = f"{service.name} migrated  (log {config.display(log_file)})"
        for service in services:
            with self.console.step(service.name) as outcome:
                self._start_service(service)
                outcome.detail = f"{service.address}  {'ready' if service.http_health_path else 'SERVING'}"

        return self._summary(secrets, infrastructure, context, services)

    def _start_service(self, service: Service) -> None:
        for path, content in service.files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        process = ManagedProcess(
            service.name,
            service.argv,
            log_file=self.config.log_file(service.name),
            env=self._environment(service),
            cwd=self.config.repo_root,
        )
        self._track(service.name, process)
        process.start()
        if service.http_health_path is not None:
            url = f"http://{service.health_address or service.address}{service.http_health_path}"
            process.wait_until(
                lambda: http_ok(url), timeout=self.config.start_timeout, what=f"200 from {url}"
            )
        else:
            process.wait_until(
                lambda: grpc_serving(service.address),
                timeout=self.config.start_timeout,
                what="SERVING on gRPC health",
            )

    def _environment(self, service: Service) -> dict[str, str]:
        return {**self.config.environ, "PYTHONUNBUFFERED": "1", **service.environment}

    def _track(self, name: str, component: Component) -> None:
        # Tracked before it starts, so that an interrupted start is still stopped.
        self._started.append((name, component))

    def _check_ports(self, infrastructure: Infrastructure, services: Sequence[Service]) -> str:
        wanted: list[PortSetting] = []
        if infrastructure.postgres is not None:
            wanted.append(POSTGRES_PORT)
        if infrastructure.nats is not None:
            wanted += [NATS_PORT, NATS_MONITOR_PORT]
        for service in services:
            wanted += service.ports
        by_port: dict[int, PortSetting] = {}
        for setting in wanted:
            port = self.config.port(setting)
            if port in by_port:
                raise ConfigError(f"{by_port[port].env_var} and {setting.env_var} both ask for port {port}")
            by_port[port] = setting
        busy = [f"{port} ({setting.env_var})" for port, setting in by_port.items() if not port_is_free(port)]
        if busy:
            raise ConfigError(
                f"already in use on {LOOPBACK}: {', '.join(busy)}. Another dev stack still running? "
                "Stop it, or choose other ports with the variables named."
            )
        return f"{len(by_port)} free on {LOOPBACK}"

    def _summary(
        self,
        secrets: DevSecrets,
        infrastructure: Infrastructure,
        context: StackContext,
        services: Sequence[Service],
    ) -> Summary:
        config = self.config
        endpoints: list[tuple[str, str]] = []
        postgres, nats = infrastructure.postgres, infrastructure.nats
        endpoints.append(("PostgreSQL", postgres.url if postgres else _redacted(context.database_url(""))))
        nats_detail = f"{nats.url}   monitoring {nats.monitor_url}" if nats else _redacted(context.nats_url)
        endpoints.append(("NATS", nats_detail))
        for service in services:
            for what, where in service.endpoints:
                endpoints.append((f"{service.name} {what}", where))
        notes = list(infrastructure.notes)
        if self._skip:
            skipped = ", ".join(sorted(self._skip))
            notes.append(f"Not started (--skip): {skipped}; `python -m devstack env NAME` prints settings.")
        tokens = {role: mint_token(secrets, role) for role in ROLES}
        return Summary(
            endpoints=tuple(endpoints),
            logs_dir=config.display(config.logs_dir),
            secrets_dir=config.display(config.secrets_dir),
            tokens={_token_label(role): token for role, token in tokens.items()},
            examples=tuple(example for service in services for example in service.examples),
            appendices=tuple(service.appendix for service in services if service.appendix),
            example_token=tokens["analyst"],
            notes=tuple(notes),
        )


def http_ok(url: str) -> bool:
    """True when `url` answers 200 within a second."""
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:  # noqa: S310 (our own loopback URL)
            return int(response.status) == 200
    except (OSError, ValueError):
        return False


def _token_label(role: str) -> str:
    return f"{role} ({DEFAULT_PARTNER_ID})" if role == "partner" else role


def _postgres_data_dir(config: StackConfig) -> tuple[Path, str | None]:
    """`.run/pg`, unless we are root and the `postgres` OS user cannot get there (a repo under /root).

    Then a directory of our own under /var/tmp, named after the run directory so later runs find it again.
    """
    preferred = config.postgres_data_dir
    user = user_to_run_server_as("postgres")
    blocked = user.first_blocked_directory(preferred.parent) if user is not None else None
    if blocked is None:
        return preferred, None
    base = Path("/var/tmp") if Path("/var/tmp").is_dir() else Path(tempfile.gettempdir())  # noqa: S108
    digest = hashlib.sha256(str(config.run_dir).encode()).hexdigest()[:12]
    home = base / f"globalcredit-devstack-{digest}"
    home.mkdir(mode=0o711, exist_ok=True)
    if home.stat().st_uid != os.geteuid():
        raise ConfigError(f"{home} belongs to another user; set GCC_RUN_DIR to a place postgres can reach")
    home.chmod(0o711)
    note = f"PostgreSQL data in {home / 'pg'}: the postgres OS user may not enter {blocked}."
    return home / "pg", note


def _redacted(url: str) -> str:
    """The URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
