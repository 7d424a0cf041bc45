"""The dev stack launcher: secrets, tokens, the service table, and a real start and stop of the stack."""

from __future__ import annotations

import base64
import io
import json
import os
import shlex
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
import jwt
import nats
import pytest
from google.protobuf import json_format

from devstack.config import (
    INFRASTRUCTURE_PORTS,
    NATS_PORT,
    POSTGRES_PORT,
    ConfigError,
    PortSetting,
    StackConfig,
)
from devstack.console import Console
from devstack.secrets import load_or_create_secrets
from devstack.services import SERVICE_PORTS, Service, StackContext, intake
from devstack.stack import Stack, build_context, plan_infrastructure
from devstack.tokens import AUDIENCE, ISSUER, ROLES, mint_token
from globalcredit.intake.v1 import intake_service_pb2
from intake.convert import draft_from_proto
from intake.domain import validate_application
from svckit.local import ProcessDied, free_port, grpc_serving, port_is_free
from svckit.local.procfs import descendants, running

STANDIN = Path(__file__).with_name("standin_service.py")
STANDIN_PORT = PortSetting("GCC_STANDIN_PORT", 0, "stand-in gRPC")
REPO_ROOT = Path(__file__).resolve().parents[2]


# --- helpers ---------------------------------------------------------------------------------------------


def family(leaders: Iterable[int]) -> set[int]:
    """These processes and all their descendants that still run."""
    members = {pid for leader in leaders for pid in (leader, *descendants(leader))}
    return {pid for pid in members if running(pid)}


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def stack_environment(run_dir: Path, **extra: str) -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "NATS_URL"}}
    # Every port on a free one, so that a dev stack running on the machine doesn't get in the way.
    ports = (*INFRASTRUCTURE_PORTS, *SERVICE_PORTS, STANDIN_PORT)
    environment.update({setting.env_var: str(free_port()) for setting in ports})
    environment.update(GCC_RUN_DIR=str(run_dir), GCC_START_TIMEOUT="30")
    environment.update(extra)
    return environment


def standin(run_dir: Path, argv: tuple[str, ...] | None = None) -> Callable[[StackContext], Service]:
    """A service-table entry that runs the stand-in service (or `argv`) with a database of its own."""

    def factory(context: StackContext) -> Service:
        address = context.listen_address(STANDIN_PORT)
        return Service(
            name="standin",
            argv=argv or (sys.executable, str(STANDIN)),
            migrate_argv=(sys.executable, str(STANDIN), "migrate"),
            address=address,
            ports=(STANDIN_PORT,),
            database="standin",
            environment={
                "DATABASE_URL": context.database_url("standin"),
                "NATS_URL": context.nats_url,
                "STANDIN_GRPC_LISTEN": address,
                "STANDIN_ENV_DUMP": str(run_dir / "standin-env.json"),
                "STANDIN_MIGRATED": str(run_dir / "standin-migrated"),
            },
            endpoints=(("gRPC", address),),
        )

    return factory


@pytest.fixture
def run_dir(reachable_tmp_path: Path) -> Path:
    return reachable_tmp_path / "run"


# --- secrets and tokens ------------------------------------------------------------------------------------


def test_secrets_are_generated_at_the_first_start_and_reused_afterwards(tmp_path: Path) -> None:
    first = load_or_create_secrets(tmp_path / "secrets")
    second = load_or_create_secrets(tmp_path / "secrets")

    assert set(first.created) == {
        "jwt-signing-key.pem",
        "jwks.json",
        "intake-pii-keys.json",
        "intake-blind-index.key",
        "webhook-secret",
    }
    assert second.webhook_secret == first.webhook_secret
    assert len(base64.b64decode(first.webhook_secret.removeprefix("whsec_"))) == 32
    assert second.created == ()
    assert second.signing_key_id == first.signing_key_id
    assert second.pii_keys == first.pii_keys == {"dev-1": first.pii_keys["dev-1"]}
    assert second.pii_current_key_id == "dev-1"
    assert second.blind_index_key == first.blind_index_key
    assert len(base64.b64decode(first.pii_keys["dev-1"])) == 32
    assert len(base64.b64decode(first.blind_index_key)) == 32


def test_private_secrets_are_readable_only_by_their_owner(tmp_path: Path) -> None:
    secrets = load_or_create_secrets(tmp_path / "secrets")

    for name in ("jwt-signing-key.pem", "intake-pii-keys.json", "intake-blind-index.key"):
        assert stat.S_IMODE((secrets.directory / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets.directory.stat().st_mode) == 0o700


def test_the_jwks_is_rewritten_from_the_signing_key(tmp_path: Path) -> None:
    secrets = load_or_create_secrets(tmp_path / "secrets")
    secrets.jwks_path.write_text("{}")

    again = load_or_create_secrets(tmp_path / "secrets")

    assert again.created == ("jwks.json",)
    assert json.loads(again.jwks_path.read_text())["keys"][0]["kid"] == secrets.signing_key_id


@pytest.mark.parametrize("role", ROLES)
def test_tokens_verify_against_the_jwks_with_the_claims_services_expect(tmp_path: Path, role: str) -> None:
    secrets = load_or_create_secrets(tmp_path / "secrets")
    token = mint_token(secrets, role)

    jwks = jwt.PyJWKSet.from_json(secrets.jwks_path.read_text())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(key for key in jwks.keys if key.key_id == kid)
    claims = jwt.decode(token, key.key, algorithms=["ES256"], audience=AUDIENCE, issuer=ISSUER)

    assert claims["roles"] == [role]
    assert claims["sub"] == f"dev-{role.replace('_', '-')}"
    assert claims["exp"] - claims["iat"] == 12 * 3600
    assert ("pii:read" in claims.get("scope", "").split()) == (role in {"senior_analyst", "service"})
    assert ("partner_id" in claims) == (role == "partner")


def test_partner_tokens_carry_the_partner_id_and_others_refuse_one(tmp_path: Path) -> None:
    secrets = load_or_create_secrets(tmp_path / "secrets")
    token = mint_token(secrets, "partner", partner_id="p-77")

    claims = jwt.decode(token, options={"verify_signature": False})

    assert claims["partner_id"] == "p-77"
    with pytest.raises(ValueError, match="partner role"):
        mint_token(secrets, "analyst", partner_id="p-77")


# --- configuration and the service table ------------------------------------------------------------------


def test_configuration_comes_from_the_environment_with_defaults_clear_of_5432_and_4222() -> None:
    defaults = StackConfig.from_env({})
    custom = StackConfig.from_env({"GCC_RUN_DIR": "/srv/gcc", "GCC_POSTGRES_PORT": "25432"})

    assert defaults.run_dir == REPO_ROOT / ".run"
    assert defaults.postgres_data_dir == REPO_ROOT / ".run" / "pg"
    assert [defaults.environ.get(name) for name in ("DATABASE_URL", "NATS_URL")] == [None, None]
    assert custom.run_dir == Path("/srv/gcc")
    assert custom.logs_dir == Path("/srv/gcc/logs")
    assert (defaults.port(POSTGRES_PORT), defaults.port(NATS_PORT)) == (15432, 14222)
    assert custom.port(POSTGRES_PORT) == 25432


def test_a_malformed_port_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="GCC_NATS_PORT must be a port number"):
        StackConfig.from_env({"GCC_NATS_PORT": "nats"})


def test_intake_gets_every_setting_it_needs(run_dir: Path) -> None:
    config = StackConfig.from_env(stack_environment(run_dir, GCC_INTAKE_PORT="50061"))
    secrets = load_or_create_secrets(config.secrets_dir)
    service = intake(build_context(config, secrets, plan_infrastructure(config)))
    environment = service.environment

    assert service.argv[1:] == ("-m", "intake")
    assert service.migrate_argv is not None
    assert service.migrate_argv[1:] == ("-m", "intake", "migrate")
    assert environment["INTAKE_GRPC_LISTEN"] == service.address == "127.0.0.1:50061"
    assert environment["DATABASE_URL"].endswith(f":{config.environ['GCC_POSTGRES_PORT']}/intake")
    assert environment["NATS_URL"] == f"nats://127.0.0.1:{config.environ['GCC_NATS_PORT']}"
    assert environment["INTAKE_METRICS_LISTEN"] == f"127.0.0.1:{config.environ['GCC_INTAKE_METRICS_PORT']}"
    assert Path(environment["AUTH_JWKS_PATH"]) == secrets.jwks_path
    assert (environment["AUTH_ISSUER"], environment["AUTH_AUDIENCE"]) == (ISSUER, AUDIENCE)
    assert json.loads(environment["INTAKE_PII_KEYS"]) == {"dev-1": secrets.pii_keys["dev-1"]}
    assert environment["INTAKE_PII_CURRENT_KEY_ID"] == "dev-1"
    assert environment["INTAKE_BLIND_INDEX_KEY"] == secrets.blind_index_key


def test_database_url_from_the_environment_replaces_the_local_postgres(run_dir: Path) -> None:
    external = "postgresql://app:secret@db.example:5432/gcc"
    config = StackConfig.from_env(stack_environment(run_dir, DATABASE_URL=external))
    infrastructure = plan_infrastructure(config)
    context = build_context(config, load_or_create_secrets(config.secrets_dir), infrastructure)

    assert infrastructure.postgres is None
    assert intake(context).environment["DATABASE_URL"] == external


def test_the_intake_example_creates_a_valid_spanish_application(run_dir: Path) -> None:
    config = StackConfig.from_env(stack_environment(run_dir))
    context = build_context(config, load_or_create_secrets(config.secrets_dir), plan_infrastructure(config))
    create = intake(context).examples[0]

    argv = shlex.split(create)
    assert argv[:5] == [".venv/bin/python", "-m", "devstack", "call", "IntakeService/CreateApplication"]
    request = json_format.Parse(argv[5], intake_service_pb2.CreateApplicationRequest())
    assert str(uuid.UUID(request.request_id)) == request.request_id
    # The example passes intake's own validation, as it stands today.
    validated = validate_application(draft_from_proto(request.application), now=datetime.now(UTC))
    assert validated.document.number == "12345678Z"
    assert validated.requested_amount.amount == Decimal("12000.00")


# --- the stack, for real ------------------------------------------------------------------------------------


@pytest.fixture
def stack(run_dir: Path) -> Iterator[Stack]:
    config = StackConfig.from_env(stack_environment(run_dir))
    launched = Stack(config, services=[standin(run_dir)], console=Console(io.StringIO()))
    try:
        yield launched
    finally:
        launched.stop()


async def test_the_stack_starts_postgres_nats_migrations_and_services_then_stops_leaving_nothing(
    stack: Stack, run_dir: Path
) -> None:
    summary = stack.start()

    assert [name for name, _ in stack.started] == ["PostgreSQL", "NATS", "standin"]
    standin_environment = json.loads((run_dir / "standin-env.json").read_text())
    database_url = standin_environment["DATABASE_URL"]
    assert database_url.endswith("/standin")
    assert (run_dir / "standin-migrated").read_text() == database_url  # migrated before it started
    assert standin_environment["PYTHONUNBUFFERED"] == "1"
    connection = await asyncpg.connect(database_url)
    assert await connection.fetchval("SELECT current_database()") == "standin"
    await connection.close()
    client = await nats.connect(standin_environment["NATS_URL"])
    assert client.connected_url is not None
    await client.jetstream().account_info()
    await client.close()
    assert grpc_serving(standin_environment["STANDIN_GRPC_LISTEN"])
    assert ("standin gRPC", standin_environment["STANDIN_GRPC_LISTEN"]) in summary.endpoints
    assert set(summary.tokens) == {"analyst", "senior_analyst", "admin", "partner (partner-dev)", "service"}
    assert (run_dir / "logs" / "standin.log").exists()
    assert (run_dir / "logs" / "postgres.log").exists()
    leaders = [component.pid for _, component in stack.started]
    processes = family(leaders)
    assert set(leaders) <= processes
    assert len(processes) > len(leaders)  # PostgreSQL's own background processes

    stack.stop()

    assert stack.started == []
    assert eventually(lambda: not any(running(pid) for pid in processes))


def test_the_stack_keeps_its_data_and_secrets_between_starts(stack: Stack, run_dir: Path) -> None:
    stack.start()
    first_key = (run_dir / "secrets" / "jwt-signing-key.pem").read_bytes()
    stack.stop()

    again = Stack(stack.config, services=[standin(run_dir)], console=Console(io.StringIO()))
    try:
        again.start()
        assert (run_dir / "secrets" / "jwt-signing-key.pem").read_bytes() == first_key
        banner = "The files belonging to this database system will be owned by user"
        assert (run_dir / "logs" / "postgres.log").read_text().count(banner) == 1
    finally:
        again.stop()


def test_a_service_that_dies_during_start_up_stops_the_whole_stack(run_dir: Path) -> None:
    config = StackConfig.from_env(stack_environment(run_dir))
    crashing = standin(run_dir, argv=(sys.executable, "-c", "print('cannot bind'); raise SystemExit(3)"))
    console_output = io.StringIO()
    stack = Stack(config, services=[crashing], console=Console(console_output))

    with pytest.raises(ProcessDied, match=r"exited with code 3[\s\S]*cannot bind"):
        stack.start()

    assert stack.started == []
    assert not (run_dir / "pg" / "postmaster.pid").exists()  # removed by a clean shutdown
    assert port_is_free(int(config.environ["GCC_NATS_PORT"]))
    printed = console_output.getvalue()
    assert "✗ standin" in printed
    assert "cannot bind" in printed
    assert printed.index("✗ standin") < printed.index("Stopping…") < printed.rindex("stopped (pid")


def test_ports_in_use_are_reported_by_variable_before_anything_starts(run_dir: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        busy = listener.getsockname()[1]
        config = StackConfig.from_env(stack_environment(run_dir, GCC_NATS_PORT=str(busy)))
        stack = Stack(config, services=[standin(run_dir)], console=Console(io.StringIO()))

        with pytest.raises(ConfigError, match=f"{busy} \\(GCC_NATS_PORT\\)"):
            stack.start()

    assert not (run_dir / "pg").exists()


# --- the command line ---------------------------------------------------------------------------------------


def devstack(*arguments: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "devstack", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_token_prints_one_token(run_dir: Path) -> None:
    result = devstack("token", "partner", "--partner-id", "p-9", environment=stack_environment(run_dir))

    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), options={"verify_signature": False})
    assert claims["roles"] == ["partner"]
    assert claims["partner_id"] == "p-9"


def test_cli_env_prints_exports_for_running_a_service_by_hand(run_dir: Path) -> None:
    result = devstack("env", "intake", environment=stack_environment(run_dir))

    assert result.returncode == 0, result.stderr
    exports = [line for line in result.stdout.splitlines() if line.startswith("export ")]
    assert any(line.startswith("export INTAKE_GRPC_LISTEN=127.0.0.1:") for line in exports)
    assert any(line.startswith('export INTAKE_PII_KEYS=\'{"dev-1": ') for line in exports)
    assert devstack("env", "nope", environment=stack_environment(run_dir)).returncode == 2


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_cli_run_stops_everything_it_started_on_ctrl_c_or_sigterm(
    run_dir: Path, stop_signal: signal.Signals
) -> None:
    output = run_dir.parent / "devstack.out"
    with output.open("w") as sink:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "devstack", "run", "--skip", "intake"],
            env=stack_environment(run_dir),
            stdout=sink,
            stderr=subprocess.STDOUT,
            # As a shell starts a background job: Ctrl-C must work even so.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
        )
    try:
        ready = eventually(lambda: "Ctrl-C stops everything." in output.read_text(), timeout=60)
        assert ready, output.read_text()
        servers = family(descendants(launcher.pid))
        assert servers

        launcher.send_signal(stop_signal)

        assert launcher.wait(timeout=30) == 0
    finally:
        if launcher.poll() is None:  # let it stop what it started; SIGKILL would orphan the servers
            launcher.terminate()
            launcher.wait(timeout=30)
    text = output.read_text()
    assert "✓ PostgreSQL" in text
    assert "✓ NATS" in text
    assert "stopped (pid" in text
    assert eventually(lambda: not any(running(pid) for pid in servers))
