"""Real servers on free loopback ports (PostgreSQL, NATS, our own services), for the dev stack and tests."""

from svckit.local.errors import (
    LocalServerError,
    PortInUse,
    ProcessDied,
    ProcessFailed,
    ServerNotFound,
    StartupTimeout,
)
from svckit.local.health import grpc_serving
from svckit.local.nats import LocalNats, find_nats_server
from svckit.local.ports import free_port, port_is_free
from svckit.local.postgres import LocalPostgres, find_postgres_binaries
from svckit.local.process import ManagedProcess, read_log_tail, run_command
from svckit.local.users import ServerUser, user_to_run_server_as

__all__ = [
    "LocalNats",
    "LocalPostgres",
    "LocalServerError",
    "ManagedProcess",
    "PortInUse",
    "ProcessDied",
    "ProcessFailed",
    "ServerNotFound",
    "ServerUser",
    "StartupTimeout",
    "find_nats_server",
    "find_postgres_binaries",
    "free_port",
    "grpc_serving",
    "port_is_free",
    "read_log_tail",
    "run_command",
    "user_to_run_server_as",
]
