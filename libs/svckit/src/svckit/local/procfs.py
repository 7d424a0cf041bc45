"""What Linux's /proc says about processes: descendants of a PID, and whether PIDs still run.

Where there is no /proc, nothing is found and everything counts as gone.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

_FIRST_POLL_INTERVAL = 0.01
_MAX_POLL_INTERVAL = 0.2


def descendants(root: int) -> list[int]:
    """The PIDs of every descendant of `root` (children, their children, …), from /proc."""
    parents: dict[int, int] = {}
    try:
        entries = os.listdir("/proc")
    except FileNotFoundError:
        return []
    for entry in entries:
        if entry.isdigit() and (state := state_and_parent(int(entry))) is not None:
            parents[int(entry)] = state[1]
    found: list[int] = []
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, parent_pid in parents.items() if parent_pid == parent]
        found += children
        frontier += children
    return found


def state_and_parent(pid: int) -> tuple[str, int] | None:
    """(state, parent PID) of a process, from /proc/<pid>/stat; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0].decode(), int(fields[1])


def running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting for its parent to reap it is not)."""
    state = state_and_parent(pid)
    return state is not None and state[0] not in {"Z", "X"}


def wait_until_gone(pids: Sequence[int], timeout: float) -> bool:
    """Wait up to `timeout` seconds until none of `pids` is running; whether that happened."""
    deadline = time.monotonic() + timeout
    interval = _FIRST_POLL_INTERVAL
    while time.monotonic() < deadline:
        if not any(running(pid) for pid in pids):
            return True
        time.sleep(interval)
        interval = min(interval * 1.5, _MAX_POLL_INTERVAL)
    return not any(running(pid) for pid in pids)
