"""Why a local server could not be started or stopped, in words a developer can act on."""

from __future__ import annotations

from pathlib import Path


class LocalServerError(RuntimeError):
    """A local server or child process could not be started, reached or stopped."""


class ServerNotFound(LocalServerError):
    """The server's binary is not installed where we look for it."""


class PortInUse(LocalServerError):
    """Something already listens on the port a server was asked to use."""

    def __init__(self, host: str, port: int, hint: str = "") -> None:
        message = f"port {port} on {host} is already in use"
        super().__init__(f"{message} ({hint})" if hint else message)
        self.host = host
        self.port = port


class ProcessFailed(LocalServerError):
    """A child process exited, or never became ready; carries the end of its log."""

    def __init__(self, message: str, *, log_file: Path, log_tail: str) -> None:
        details = f"\n--- last lines of {log_file} ---\n{log_tail}" if log_tail else f" (log: {log_file})"
        super().__init__(f"{message}{details}")
        self.log_file = log_file
        self.log_tail = log_tail


class ProcessDied(ProcessFailed):
    """The process exited while we waited for it to become ready."""


class StartupTimeout(ProcessFailed):
    """The process kept running but did not become ready before the deadline."""
