"""ManagedProcess: start, readiness with a deadline, stop by PID, SIGKILL escalation, errors with the log."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from svckit.local import (
    ManagedProcess,
    ProcessDied,
    ProcessFailed,
    ServerUser,
    StartupTimeout,
    read_log_tail,
    run_command,
)
from svckit.local.procfs import running


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def gone_soon(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def output(process: ManagedProcess) -> str:
    """What the process printed: its log without the header lines (which quote the command itself)."""
    lines = process.log_file.read_text().splitlines()
    return "\n".join(line for line in lines if not line.startswith("--- "))


def logged(process: ManagedProcess, text: str) -> bool:
    return text in output(process)


GRACEFUL = """
import signal, sys, time
def stop(signum, frame):
    print("stopping on", signal.Signals(signum).name, flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
while True:
    time.sleep(1)
"""


def test_stop_sends_sigterm_to_the_pid_and_returns_the_exit_status(tmp_path: Path) -> None:
    process = ManagedProcess("graceful", python(GRACEFUL), log_file=tmp_path / "graceful.log")
    process.start()
    process.wait_until(lambda: logged(process, "ready"), timeout=10)

    assert process.stop(timeout=5) == 0
    assert logged(process, "stopping on SIGTERM")
    assert not process.running
    assert not running(process.pid)


def test_stop_uses_the_configured_stop_signal(tmp_path: Path) -> None:
    code = GRACEFUL.replace("signal.SIGTERM, stop", "signal.SIGINT, stop")
    process = ManagedProcess("int", python(code), log_file=tmp_path / "int.log", stop_signal=signal.SIGINT)
    process.start()
    process.wait_until(lambda: logged(process, "ready"), timeout=10)

    assert process.stop(timeout=5) == 0
    assert logged(process, "stopping on SIGINT")


def test_stop_escalates_to_sigkill_when_the_process_ignores_the_stop_signal(tmp_path: Path) -> None:
    code = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\n"
    code += "time.sleep(60)"
    process = ManagedProcess("stubborn", python(code), log_file=tmp_path / "stubborn.log")
    process.start()
    process.wait_until(lambda: logged(process, "ready"), timeout=10)

    assert process.stop(timeout=0.3) == -signal.SIGKILL
    assert not running(process.pid)


def test_stop_leaves_nothing_the_process_spawned(tmp_path: Path) -> None:
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('child', child.pid, flush=True)\n"
        "time.sleep(60)"
    )
    process = ManagedProcess("parent", python(code), log_file=tmp_path / "parent.log")
    process.start()
    process.wait_until(lambda: logged(process, "child "), timeout=10)
    child_pid = int(output(process).split("child ")[1].split()[0])
    assert running(child_pid)

    process.stop(timeout=5)  # SIGTERM ends the parent (default action), and the child is swept

    assert not running(process.pid)
    assert gone_soon(child_pid)  # SIGKILL is delivered asynchronously


def test_kill_also_kills_descendants_that_left_the_process_group(tmp_path: Path) -> None:
    code = (
        "import subprocess, sys, time\n"
        "args = [sys.executable, '-c', 'import time; time.sleep(60)']\n"
        "child = subprocess.Popen(args, start_new_session=True)\n"
        "print('child', child.pid, flush=True)\n"
        "time.sleep(60)"
    )
    process = ManagedProcess("postmaster-like", python(code), log_file=tmp_path / "parent.log")
    process.start()
    process.wait_until(lambda: logged(process, "child "), timeout=10)
    child_pid = int(output(process).split("child ")[1].split()[0])

    process.kill()

    assert not running(child_pid)


def test_kill_sigkills_at_once(tmp_path: Path) -> None:
    process = ManagedProcess("victim", python(GRACEFUL), log_file=tmp_path / "victim.log")
    process.start()
    process.wait_until(lambda: logged(process, "ready"), timeout=10)

    assert process.kill() == -signal.SIGKILL
    assert not logged(process, "stopping")
    assert not running(process.pid)


def test_wait_returns_none_while_the_process_runs(tmp_path: Path) -> None:
    process = ManagedProcess("runner", python(GRACEFUL), log_file=tmp_path / "runner.log")
    process.start()
    try:
        assert process.wait(timeout=0.05) is None
        assert process.running
    finally:
        process.stop()


def test_a_stopped_process_can_be_started_again(tmp_path: Path) -> None:
    process = ManagedProcess("again", python(GRACEFUL), log_file=tmp_path / "again.log")
    process.start()
    process.wait_until(lambda: logged(process, "ready"), timeout=10)
    first_pid = process.pid
    process.stop()
    process.start()
    process.wait_until(lambda: output(process).count("ready") == 2, timeout=10)

    assert process.running
    assert process.pid != first_pid
    process.stop()


def test_wait_until_raises_with_the_log_tail_when_the_process_dies(tmp_path: Path) -> None:
    code = "import sys\nprint('fatal: no DATABASE_URL', flush=True)\nsys.exit(3)"
    process = ManagedProcess("broken", python(code), log_file=tmp_path / "broken.log")
    process.start()

    with pytest.raises(ProcessDied, match="exited with code 3") as raised:
        process.wait_until(lambda: False, timeout=10, what="serving")

    assert "fatal: no DATABASE_URL" in str(raised.value)
    assert "before it was serving" in str(raised.value)
    assert raised.value.log_file == tmp_path / "broken.log"


def test_wait_until_raises_at_the_deadline_with_the_log_tail(tmp_path: Path) -> None:
    process = ManagedProcess("slow", python(GRACEFUL), log_file=tmp_path / "slow.log")
    process.start()
    try:
        with pytest.raises(StartupTimeout, match=r"was not ready after 0\.3 s") as raised:
            process.wait_until(lambda: False, timeout=0.3)
        assert process.running
        assert "--- " in raised.value.log_tail
    finally:
        process.stop()


def test_environment_and_working_directory_reach_the_child(tmp_path: Path) -> None:
    code = "import os\nprint(os.environ['GREETING'], os.getcwd(), flush=True)"
    process = ManagedProcess(
        "env", python(code), log_file=tmp_path / "env.log", env={"GREETING": "hola"}, cwd=tmp_path
    )
    process.start()

    assert process.wait(timeout=10) == 0
    assert f"hola {tmp_path}" in read_log_tail(process.log_file)


@pytest.mark.skipif(os.geteuid() != 0, reason="switching user needs root")
def test_runs_as_another_os_user_and_still_stops_by_pid(tmp_path: Path) -> None:
    postgres = ServerUser.named("postgres")
    # A shell, not our Python: the venv's interpreter may live where that user may not go.
    script = 'trap "echo stopping; exit 0" TERM; echo "uid $(id -u)"; echo ready; while :; do sleep 0.1; done'
    process = ManagedProcess(
        "as-user", ["/bin/sh", "-c", script], log_file=tmp_path / "as.log", user=postgres
    )
    process.start()
    process.wait_until(lambda: logged(process, "ready"), timeout=10)

    assert logged(process, f"uid {postgres.uid}")
    assert process.stop() == 0


def test_run_command_appends_output_and_raises_with_it_on_failure(tmp_path: Path) -> None:
    log = tmp_path / "tool.log"
    run_command("ok", python("print('first run')"), log_file=log)

    with pytest.raises(ProcessFailed, match="tool failed with exit code 2") as raised:
        run_command("tool", python("import sys; print('no such table'); sys.exit(2)"), log_file=log)

    assert "no such table" in str(raised.value)
    assert "first run" in log.read_text()


def test_run_command_raises_when_the_command_outlives_its_timeout(tmp_path: Path) -> None:
    with pytest.raises(ProcessFailed, match="did not finish within"):
        run_command("sleepy", python("import time; time.sleep(30)"), log_file=tmp_path / "s.log", timeout=0.3)
