"""CPU time that processes have used, from /proc: steadier than wall-clock rates on a shared machine."""

from __future__ import annotations

import os
from collections.abc import Mapping

from svckit.local.procfs import descendants

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
# Fields of /proc/<pid>/stat after the command name, counted from the state (field 3 in proc(5)).
_UTIME, _STIME, _CUTIME, _CSTIME = 11, 12, 13, 14


def own_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of `pid` (all its threads) and of its children it has reaped; None when gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    ticks = sum(int(fields[index]) for index in (_UTIME, _STIME, _CUTIME, _CSTIME))
    return ticks / _TICKS_PER_SECOND


def tree_cpu_seconds(pid: int) -> float:
    """CPU of `pid` and every descendant, running or exited (PostgreSQL's backends, for one)."""
    return sum(seconds for member in (pid, *descendants(pid)) if (seconds := own_cpu_seconds(member)))


class CpuMeter:
    """Snapshots of the CPU seconds of named process trees; subtract two for what a phase cost."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.pids = dict(pids)

    def snapshot(self) -> dict[str, float]:
        return {name: tree_cpu_seconds(pid) for name, pid in self.pids.items()}

    @staticmethod
    def spent(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
        return {name: after[name] - before[name] for name in before}
