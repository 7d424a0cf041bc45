"""The whole dev stack for the end-to-end tests, started through the dev stack's own `Stack`: PostgreSQL,
NATS, every service and Envoy, on free ports, with state in a temporary directory.

Also what several tests share: sandbox documents, tokens, polling with a deadline.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp

from bureau_gateway.sandbox import SANDBOX_IDENTITIES, Scenario
from devstack.config import INFRASTRUCTURE_PORTS, StackConfig
from devstack.console import Console
from devstack.envoy import GatewaySettings
from devstack.secrets import DevSecrets, load_or_create_secrets
from devstack.services import NOTIFIER_METRICS_PORT, SERVICE_PORTS, gateway_settings
from devstack.stack import Stack, build_context, plan_infrastructure
from devstack.tokens import mint_token
from svckit.local import free_port

START_TIMEOUT = "60"
SERVICE_ENV_PREFIXES = ("INTAKE", "SCORING", "BUREAU", "NOTIFIER", "WEBHOOK_SHIM")


def approving_document(country: str) -> str:
    """The sandbox identity the simulated bureau answers with a clean file, for the country's typical
    application: scoring approves it."""
    return next(
        identity.document
        for identity in SANDBOX_IDENTITIES
        if identity.country.value == country and identity.scenario is Scenario.APPROVE
    )


@dataclass(frozen=True)
class EdgeStack:
    """A running stack, seen from outside: the gateway's URL, and what a client needs to call it."""

    config: StackConfig
    secrets: DevSecrets
    gateway: GatewaySettings
    """The settings the stack's Envoy was rendered with (tests render variations of it)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.gateway.port}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.gateway.port}"

    def log(self, name: str) -> str:
        return self.config.log_file(name).read_text(encoding="utf-8", errors="replace")

    def token(
        self,
        role: str = "analyst",
        *,
        subject: str | None = None,
        partner_id: str | None = None,
        ttl: timedelta | None = None,
    ) -> str:
        """A development token, signed with the stack's key; a fresh subject unless one is given."""
        subject = subject or f"e2e-{role}-{uuid.uuid4().hex[:8]}"
        if ttl is None:
            return mint_token(self.secrets, role, subject=subject, partner_id=partner_id)
        return mint_token(self.secrets, role, subject=subject, partner_id=partner_id, ttl=ttl)

    async def live_watchers(self, session: aiohttp.ClientSession) -> int:
        """Watches notifier has registered for live events (its own gauge), so a test knows when a watch
        will see the next change."""
        url = f"http://127.0.0.1:{self.config.port(NOTIFIER_METRICS_PORT)}/metrics"
        async with session.get(url) as response:
            text = await response.text()
        values = {
            name: float(value)
            for line in text.splitlines()
            if line.startswith(("notifier_active_watchers ", "notifier_replaying_watchers "))
            for name, value in [line.split()]
        }
        return int(values["notifier_active_watchers"] - values["notifier_replaying_watchers"])


def stack_environment(run_dir: Path) -> dict[str, str]:
    """This process's environment with every port of the stack on a free one, state in `run_dir` and
    services logging at DEBUG; never DATABASE_URL or NATS_URL (the stack starts its own, never the
    machine's 5432 and 4222)."""
    environment = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "NATS_URL"}}
    environment.update(
        {setting.env_var: str(free_port()) for setting in (*INFRASTRUCTURE_PORTS, *SERVICE_PORTS)}
    )
    environment.update(GCC_RUN_DIR=str(run_dir), GCC_START_TIMEOUT=START_TIMEOUT)
    # Every line a service can write (libraries' too), so that the logs test sees all of them.
    environment.update({f"{prefix}_LOG_LEVEL": "DEBUG" for prefix in SERVICE_ENV_PREFIXES})
    return environment


@contextmanager
def running_stack(keep_logs_in: Path) -> Iterator[EdgeStack]:
    """Start the whole stack; stop everything it started, by PID, and remove its state afterwards
    (its logs are moved to `keep_logs_in` first, for a look after a failure)."""
    # PostgreSQL runs as the `postgres` OS user when we are root: it must be able to pass through.
    home = Path(tempfile.mkdtemp(prefix="gcc-e2e-"))
    home.chmod(0o711)
    config = StackConfig.from_env(stack_environment(home / "run"))
    stack = Stack(config, console=Console(io.StringIO()))
    try:
        stack.start()
        secrets = load_or_create_secrets(config.secrets_dir)
        context = build_context(config, secrets, plan_infrastructure(config))
        yield EdgeStack(config=config, secrets=secrets, gateway=gateway_settings(context))
    finally:
        stack.stop()
        if config.logs_dir.is_dir():
            shutil.copytree(config.logs_dir, keep_logs_in, dirs_exist_ok=True)
        shutil.rmtree(home, ignore_errors=True)
