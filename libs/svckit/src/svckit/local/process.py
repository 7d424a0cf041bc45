"""Child processes we own: started in their own session, logged to a file, waited on with a deadline,
stopped by PID.

Each process leads a new session (and process group), so a Ctrl-C in the terminal reaches only the
launcher, which then stops its children in the order it chooses. `stop()` sends the stop signal to the
process itself (the leader owns the shutdown of its children: PostgreSQL's backends give SIGINT and SIGTERM
meanings of their own), waits, escalates to SIGKILL for the process and all its descendants, and finally
sweeps the group with SIGKILL so nothing it spawned outlives it. The sweep happens while the leader is an
unreaped zombie, so the group id cannot yet belong to anybody else.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from svckit.local.errors import LocalServerError, ProcessDied, ProcessFailed, StartupTimeout
from svckit.local.procfs import descendants, wait_until_gone
from svckit.local.users import ServerUser

_FIRST_POLL_INTERVAL = 0.01
_MAX_POLL_INTERVAL = 0.2
_KILL_TIMEOUT = 5.0


def read_log_tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a log file ('' when it does not exist)."""
    try:
        with path.open("rb") as log:
            size = log.seek(0, os.SEEK_END)
            log.seek(max(0, size - 16_384))
            data = log.read()
    except FileNotFoundError:
        return ""
    return "\n".join(data.decode("utf-8", errors="replace").splitlines()[-lines:])


def run_command(
    name: str,
    argv: Sequence[str | os.PathLike[str]],
    *,
    log_file: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user: ServerUser | None = None,
    timeout: float = 120.0,
) -> None:
    """Run a one-shot command to completion (initdb, a migration), appending its output to `log_file`.

    Raises `ProcessFailed`, with the end of the log, when it fails or outlives `timeout`.
    """
    with _AppendedLog(log_file, name, argv) as log:
        try:
            completed = subprocess.run(  # noqa: S603 - argv comes from our own code, never a shell
                [os.fspath(arg) for arg in argv],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=None if env is None else dict(env),
                cwd=cwd,
                timeout=timeout,
                check=False,
                user=None if user is None else user.uid,
                group=None if user is None else user.gid,
                extra_groups=None if user is None else list(user.groups),
            )
        except subprocess.TimeoutExpired:
            raise ProcessFailed(
                f"{name} did not finish within {timeout:.0f} s",
                log_file=log_file,
                log_tail=read_log_tail(log_file),
            ) from None
        except OSError as exc:
            raise LocalServerError(f"could not run {name} ({shlex.join(map(str, argv))}): {exc}") from exc
    if completed.returncode != 0:
        raise ProcessFailed(
            f"{name} failed with exit code {completed.returncode}",
            log_file=log_file,
            log_tail=read_log_tail(log_file),
        )


class ManagedProcess:
    """One long-running child process, its output appended to `log_file`.

    `env`, when given, is the child's whole environment (as with `subprocess`). `user` runs it as another
    OS user (we must be root): `Popen` switches user in the child itself, so the PID we hold is the
    server's own, where `runuser` in between would turn any signal into SIGTERM and a SIGKILL 2 s later.
    `stop_signal` is what asks it to shut down cleanly (SIGINT for PostgreSQL's fast shutdown).
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str | os.PathLike[str]],
        *,
        log_file: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: ServerUser | None = None,
        stop_signal: signal.Signals = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.argv = [os.fspath(arg) for arg in argv]
        self.log_file = log_file
        self.env = None if env is None else dict(env)
        self.cwd = cwd
        self.user = user
        self.stop_signal = stop_signal
        self._popen: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        state = "not started" if self._popen is None else f"pid {self._popen.pid}"
        return f"<ManagedProcess {self.name} ({state})>"

    @property
    def pid(self) -> int:
        """The PID of the last start (still answered after the process has stopped)."""
        if self._popen is None:
            raise LocalServerError(f"{self.name} has not been started")
        return self._popen.pid

    @property
    def running(self) -> bool:
        """Whether the process has been started and has not exited."""
        return self._popen is not None and not self._has_exited()

    @property
    def returncode(self) -> int | None:
        """The exit status once the process has exited (negative: killed by that signal), else None."""
        if self._popen is None or not self._has_exited():
            return None
        return self._reap()

    def start(self) -> None:
        """Start the process; it runs in a new session. Raises if this one is already running."""
        if self.running:
            raise LocalServerError(f"{self.name} is already running (pid {self.pid})")
        with _AppendedLog(self.log_file, self.name, self.argv) as log:
            try:
                self._popen = subprocess.Popen(  # noqa: S603 - argv comes from our own code, never a shell
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                    cwd=self.cwd,
                    start_new_session=True,
                    user=None if self.user is None else self.user.uid,
                    group=None if self.user is None else self.user.gid,
                    extra_groups=None if self.user is None else list(self.user.groups),
                )
            except OSError as exc:
                command = shlex.join(self.argv)
                raise LocalServerError(f"could not start {self.name} ({command}): {exc}") from exc

    def wait_until(self, predicate: Callable[[], bool], *, timeout: float, what: str = "ready") -> None:
        """Poll `predicate` until it holds, with a deadline.

        Raises `ProcessDied` as soon as the process exits, or `StartupTimeout` at the deadline; both carry
        the end of the log. `what` names the awaited state in those messages ("accepting connections").
        """
        deadline = time.monotonic() + timeout
        interval = _FIRST_POLL_INTERVAL
        while True:
            if self._has_exited():
                self._raise_died(what)
            if predicate():
                if self._has_exited():  # the predicate may have been answered by someone else's server
                    self._raise_died(what)
                return
            if time.monotonic() >= deadline:
                raise StartupTimeout(
                    f"{self.name} (pid {self.pid}) was not {what} after {timeout:.1f} s",
                    log_file=self.log_file,
                    log_tail=read_log_tail(self.log_file),
                )
            time.sleep(interval)
            interval = min(interval * 1.5, _MAX_POLL_INTERVAL)

    def wait(self, timeout: float) -> int | None:
        """Wait up to `timeout` seconds for the process to exit by itself; its exit status, or None."""
        if self._popen is None or not self._wait_for_exit(timeout):
            return None
        return self._reap()

    def stop(self, timeout: float = 10.0) -> int | None:
        """Ask the process to stop (`stop_signal`), wait up to `timeout` seconds, then SIGKILL it all.

        Returns its exit status, or None if it was never started. Safe to call again.
        """
        if self._popen is None:
            return None
        if not self._has_exited():
            self._send(self.stop_signal)
            if not self._wait_for_exit(timeout):
                self._kill_tree()
        return self._reap()

    def kill(self) -> int | None:
        """SIGKILL the process and all its descendants at once (for chaos tests); returns its status."""
        if self._popen is None:
            return None
        if not self._has_exited():
            self._kill_tree()
        return self._reap()

    def _kill_tree(self) -> None:
        """SIGKILL the process, its group and every descendant, and wait until they are gone.

        Descendants outside the group matter: PostgreSQL's backends lead sessions of their own, and a new
        postmaster refuses to start while the old one's shared memory is still attached.
        """
        family = descendants(self.pid)
        self._send_group(signal.SIGKILL)
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._wait_for_exit(_KILL_TIMEOUT)
        wait_until_gone(family, _KILL_TIMEOUT)

    def _has_exited(self) -> bool:
        popen = self._popen
        if popen is None or popen.returncode is not None:
            return True
        try:
            # WNOWAIT leaves the zombie in place: its PID (and group id) stay ours until `_reap`.
            result = os.waitid(os.P_PID, popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return result is not None and result.si_pid != 0

    def _wait_for_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        interval = _FIRST_POLL_INTERVAL
        while not self._has_exited():
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)
            interval = min(interval * 1.5, _MAX_POLL_INTERVAL)
        return True

    def _reap(self) -> int:
        popen = self._popen
        assert popen is not None
        if popen.returncode is None:
            self._send_group(signal.SIGKILL)  # whatever the leader left behind in its session
            popen.wait()
        return popen.returncode

    def _send(self, signum: signal.Signals) -> None:
        assert self._popen is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._popen.pid, signum)

    def _send_group(self, signum: signal.Signals) -> None:
        assert self._popen is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._popen.pid, signum)  # the leader of a new session: its PID is the group id

    def _raise_died(self, what: str) -> None:
        code = self._reap()
        how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
        raise ProcessDied(
            f"{self.name} (pid {self.pid}) {how} before it was {what}",
            log_file=self.log_file,
            log_tail=read_log_tail(self.log_file),
        )


class _AppendedLog:
    """The log opened for appending, headed by a line saying what starts now; closed once the child has it."""

    def __init__(self, path: Path, name: str, argv: Sequence[str | os.PathLike[str]]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("ab")
        started = datetime.now(UTC).isoformat(timespec="seconds")
        command = shlex.join(os.fspath(arg) for arg in argv).replace("\n", "\\n")  # one line per start
        self._file.write(f"--- {started} {name}: {command}\n".encode())
        self._file.flush()

    def __enter__(self) -> int:
        return self._file.fileno()

    def __exit__(self, *exc_info: object) -> None:
        self._file.close()
