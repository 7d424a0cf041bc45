"""`python -m devstack`: run the dev stack (`make run`), print a development token (`make token`), or
print the environment one service runs with (to run it by hand)."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import NoReturn

import grpc

from devstack import reflection
from devstack.config import INFRASTRUCTURE_PORTS, ConfigError, StackConfig
from devstack.console import Console
from devstack.secrets import load_or_create_secrets
from devstack.services import INTAKE_PORT, SERVICE_PORTS, SERVICES
from devstack.stack import Stack, build_context, plan_infrastructure, select_services
from devstack.tokens import ROLES, mint_token
from svckit.local import LocalServerError

ENVIRONMENT_HELP = """\
environment (all optional):
  GCC_RUN_DIR              state: PostgreSQL data, JetStream store, logs, development secrets
                           (default: <repo>/.run; inside it pg/, nats/, logs/, secrets/)
{ports}
  GCC_START_TIMEOUT        seconds each server gets to become ready (default: 60)
  GCC_GATEWAY_CORS_ORIGINS origins browsers may call the gateway from, comma-separated
                           (default: the console's and the gateway's own, as 127.0.0.1 and localhost)
  GCC_GATEWAY_RATE_LIMIT   requests per second per client at the gateway (default: 200)
  GCC_GATEWAY_RATE_BURST   requests a client may send at once before that rate applies (default: 400)
  DATABASE_URL             use this PostgreSQL database for every service instead of starting PostgreSQL
  NATS_URL                 use this NATS server (JetStream enabled) instead of starting one

Development secrets (JWT signing key and JWKS, intake's PII and blind-index keys) are generated in
<run dir>/secrets/ at the first start and reused afterwards; delete the directory for new ones.
"""


def environment_help() -> str:
    ports = "\n".join(
        f"  {setting.env_var:<24} {setting.purpose} port (default: {setting.default})"
        for setting in (*INFRASTRUCTURE_PORTS, *SERVICE_PORTS)
    )
    return ENVIRONMENT_HELP.format(ports=ports)


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="python -m devstack",
        description="Global Credit Core's dev stack: PostgreSQL, NATS JetStream and every service, on "
        "loopback ports. Without a command: run.",
        epilog=environment_help(),
        formatter_class=formatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="start everything, print where it is, and wait; Ctrl-C stops it all (the default)",
        epilog=environment_help(),
        formatter_class=formatter,
    )
    _add_skip(run)
    token = commands.add_parser("token", help="print a development token for a role")
    token.add_argument("role", choices=ROLES)
    token.add_argument("--partner-id", help="the partner the token acts for (partner role only)")
    token.add_argument("--subject", help="the token's subject (default: dev-<role>)")
    call = commands.add_parser(
        "call",
        help="call a method through server reflection with a JSON body, like grpcurl (needs a running stack)",
    )
    call.add_argument("method", help="Service/Method, e.g. IntakeService/ListApplications")
    call.add_argument("body", nargs="?", default="{}", help="the request as JSON (default: {})")
    call.add_argument(
        "--role", choices=ROLES, default="analyst", help="whose token to send (default: analyst)"
    )
    call.add_argument("--partner-id", help="the partner the token acts for (partner role only)")
    call.add_argument("--address", help="host:port of the service (default: intake's)")
    env = commands.add_parser(
        "env", help="print the environment a service runs with, as shell exports (to run it by hand)"
    )
    env.add_argument("service", nargs="?", default="intake", help="the service (default: intake)")
    _add_skip(parser)
    return parser


def _add_skip(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="SERVICE",
        help="do not start SERVICE (to run it yourself, with `env SERVICE`); repeatable",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = StackConfig.from_env()
        if args.command == "token":
            return print_token(config, args.role, args.partner_id, args.subject)
        if args.command == "env":
            return print_environment(config, args.service)
        if args.command == "call":
            return call_method(config, args)
    except (ValueError, LocalServerError) as exc:  # ConfigError is a ValueError
        print(f"devstack: {exc}", file=sys.stderr)
        return 2
    return run(config, args.skip)


def run(config: StackConfig, skip: Sequence[str]) -> int:
    """Start the stack and keep it up until Ctrl-C or SIGTERM, then stop everything it started."""
    console = Console()
    stack = Stack(config, skip=skip, console=console)
    # Both end the wait as KeyboardInterrupt; SIGINT explicitly, for a shell that started us ignoring it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    status = 0
    try:
        console.summary(stack.start())
        exited = stack.watch()
        console.line()
        log_file = config.display(config.log_file(exited))
        console.line(f"{exited} exited by itself (see {log_file}).")
        status = 1
    except KeyboardInterrupt:
        console.line()
    except (ConfigError, LocalServerError):
        console.line(f"The dev stack did not start; logs are in {config.display(config.logs_dir)}/.")
        status = 1
    finally:
        # Stopping must not be cut short: everything it started goes down, in order, by PID.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
    return status


def print_token(config: StackConfig, role: str, partner_id: str | None, subject: str | None) -> int:
    secrets = load_or_create_secrets(config.secrets_dir)
    print(mint_token(secrets, role, partner_id=partner_id, subject=subject))
    return 0


def print_environment(config: StackConfig, name: str) -> int:
    secrets = load_or_create_secrets(config.secrets_dir)
    context = build_context(config, secrets, plan_infrastructure(config))
    services = {service.name: service for service in select_services(context, SERVICES)}
    if name not in services:
        raise ConfigError(f"no service named {name} (the services: {', '.join(services)})")
    service = services[name]
    print(f"# {name}'s environment; start the rest with: python -m devstack run --skip {name}")
    for variable, value in service.environment.items():
        print(f"export {variable}={shlex.quote(value)}")
    for path, content in service.files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        print(f"# wrote {config.display(path)}")
    print(f"# then: {shlex.join(service.argv)}")
    return 0


def call_method(config: StackConfig, args: argparse.Namespace) -> int:
    secrets = load_or_create_secrets(config.secrets_dir)
    token = mint_token(secrets, args.role, partner_id=args.partner_id)
    address = args.address or config.listen_address(INTAKE_PORT)
    try:
        print(reflection.call(address, args.method, args.body, token=token))
    except grpc.RpcError as error:
        print(f"{error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
