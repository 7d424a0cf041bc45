"""Facts about the machine a benchmark ran on, printed beside its figures."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class MachineFacts:
    cpus: int
    cpu_model: str
    memory_gib: float
    kernel: str
    python: str
    date: str
    load_average: tuple[float, float, float]
    """At the start of the run: other work on a shared machine shows here."""
    data_filesystem: str
    """Where PostgreSQL and JetStream keep their data; a RAM disk would make fsync free."""


def machine_facts(data_dir: Path) -> MachineFacts:
    return MachineFacts(
        cpus=len(os.sched_getaffinity(0)),
        cpu_model=_cpu_model(),
        memory_gib=round(_memory_kib() / 1024 / 1024, 1),
        kernel=platform.release(),
        python=platform.python_version(),
        date=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        load_average=os.getloadavg(),
        data_filesystem=filesystem_type(data_dir),
    )


def filesystem_type(path: Path) -> str:
    """The type of the filesystem holding `path` (ext4, xfs, tmpfs…), from /proc/self/mounts."""
    resolved = path.resolve()
    best, best_type = "", "unknown"
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return best_type
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        mount_point = parts[1].replace("\\040", " ")
        contains = resolved == Path(mount_point) or Path(mount_point) in resolved.parents
        if contains and len(mount_point) >= len(best):
            best, best_type = mount_point, parts[2]
    return best_type


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_kib() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
