"""From raw samples to figures (rates, nearest-rank percentiles, CPU per 1,000 creates) and from figures
to the printed report and its JSON form."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.load import PhaseSamples
from bench.machine import MachineFacts
from bench.postgres import InsertCeiling, OutboxDrain, ServerFacts

# SPEC §13, on the 2-core development machine.
TARGET_CREATES_PER_S = 1000.0
TARGET_P99_MS = 50.0
TARGET_LOAD_FRACTION = 0.7
CPU_COLUMNS = ("intake", "PostgreSQL", "NATS", "client")


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank `q`th percentile (0 < q <= 100) of `values`: a value that was observed."""
    if not values:
        raise ValueError("no values")
    if not 0 < q <= 100:
        raise ValueError(f"percentile must be in (0, 100], not {q}")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, nanoseconds: Iterable[int]) -> Latency | None:
        values = sorted(nanoseconds)
        if not values:
            return None
        p50, p95, p99 = (percentile(values, q) / 1e6 for q in (50, 95, 99))
        return cls(p50, p95, p99, values[-1] / 1e6)


@dataclass(frozen=True)
class PhaseResult:
    kind: str
    load: str
    """"C=8" (closed loop, 8 workers) or "700/s" (open loop, arrivals per second)."""
    concurrency: int
    offered_rate: float
    creates_per_s: float
    latency: Latency | None
    errors: Mapping[str, int]
    succeeded: int
    cpu_seconds: Mapping[str, float]
    """CPU spent from the phase's start until the outbox was empty, by component (see CPU_COLUMNS)."""
    outbox: OutboxDrain
    send_lag_p99_ms: float | None = None
    """Open loop: the client's own lateness against the schedule (large means the client saturated)."""
    generated_during_phase: int = 0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def failed(self) -> bool:
        return self.error_count > 0 or self.succeeded == 0 or not self.outbox.drained

    def cpu_per_1000(self, component: str) -> float | None:
        """CPU seconds `component` spent per 1,000 successful creates (outbox publishing included)."""
        spent = self.cpu_seconds.get(component)
        if spent is None or self.succeeded == 0:
            return None
        return spent / self.succeeded * 1000


def summarise(samples: PhaseSamples, cpu_seconds: Mapping[str, float], outbox: OutboxDrain) -> PhaseResult:
    phase = samples.phase
    return PhaseResult(
        kind=phase.kind,
        load=phase.label,
        concurrency=phase.concurrency,
        offered_rate=phase.rate,
        creates_per_s=samples.completed_in_window / samples.window_seconds if samples.window_seconds else 0.0,
        latency=Latency.of(samples.latencies_ns),
        errors=dict(sorted(samples.errors.items())),
        succeeded=samples.succeeded,
        cpu_seconds={**cpu_seconds, "client": samples.client_cpu_seconds},
        outbox=outbox,
        send_lag_p99_ms=percentile(samples.send_lag_ns, 99) / 1e6 if samples.send_lag_ns else None,
        generated_during_phase=samples.generated_during_phase,
    )


@dataclass(frozen=True)
class BenchReport:
    machine: MachineFacts
    server: ServerFacts
    settings: Mapping[str, Any]
    phases: Sequence[PhaseResult]
    ceiling: Sequence[InsertCeiling]
    pids: Mapping[str, int] = field(default_factory=dict)

    @property
    def best_closed(self) -> PhaseResult | None:
        closed = [phase for phase in self.phases if phase.kind == "closed" and not phase.failed]
        return max(closed, key=lambda phase: phase.creates_per_s, default=None)

    @property
    def open_loop(self) -> PhaseResult | None:
        return next((phase for phase in self.phases if phase.kind == "open"), None)

    @property
    def failed(self) -> bool:
        return not self.phases or any(phase.failed for phase in self.phases)

    def ratios(self) -> dict[int, float]:
        """Best closed-loop creates/s ÷ raw inserts/s, by the ceiling's connection count."""
        best = self.best_closed
        if best is None:
            return {}
        return {
            line.connections: best.creates_per_s / line.inserts_per_s
            for line in self.ceiling
            if line.inserts_per_s
        }

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        for phase, result in zip(document["phases"], self.phases, strict=True):
            phase["errors_total"] = result.error_count
            phase["failed"] = result.failed
            phase["cpu_seconds_per_1000_creates"] = {
                name: result.cpu_per_1000(name) for name in result.cpu_seconds
            }
        ratios = self.ratios().items()
        document["ratios"] = {f"{connections}_connections": ratio for connections, ratio in ratios}
        document["failed"] = self.failed
        return document


# --- printing -----------------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}" if value >= 100 else f"{value:.2f}"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def format_table(phases: Sequence[PhaseResult]) -> str:
    header = (
        f"{'phase':<7} {'load':>8} {'creates/s':>10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'errors':>7} {'intake CPU s/1k':>16} {'outbox lag s':>13}"
    )
    lines = [header, "-" * len(header)]
    for phase in phases:
        latency = phase.latency
        lag = f"{phase.outbox.seconds:.2f}" if phase.outbox.drained else f">{phase.outbox.seconds:.0f}"
        line = (
            f"{phase.kind:<7} {phase.load:>8} {phase.creates_per_s:>10.1f} "
            f"{_ms(latency.p50_ms if latency else None):>8} {_ms(latency.p95_ms if latency else None):>8} "
            f"{_ms(latency.p99_ms if latency else None):>8} {phase.error_count:>7} "
            f"{_seconds(phase.cpu_per_1000('intake')):>16} {lag:>13}"
        )
        if phase.failed:
            line += "  FAILED " + ", ".join(f"{code}: {count}" for code, count in phase.errors.items())
        lines.append(line.rstrip())
    return "\n".join(lines)


def format_cpu_table(phases: Sequence[PhaseResult]) -> str:
    header = f"{'phase':<7} {'load':>8} " + " ".join(f"{name:>11}" for name in CPU_COLUMNS)
    lines = [header, "-" * len(header)]
    for phase in phases:
        cells = " ".join(f"{_seconds(phase.cpu_per_1000(name)):>11}" for name in CPU_COLUMNS)
        lines.append(f"{phase.kind:<7} {phase.load:>8} {cells}")
    return "\n".join(lines)


def format_report(report: BenchReport) -> str:
    machine, server, settings = report.machine, report.server, report.settings
    load = ", ".join(f"{value:.2f}" for value in machine.load_average)
    lines = [
        "CreateApplication benchmark (make bench)",
        f"machine   {machine.cpus} CPUs, {machine.cpu_model}, {machine.memory_gib} GiB, Linux "
        f"{machine.kernel}, Python {machine.python}; load average at start {load}",
        f"date      {machine.date}",
        f"servers   PostgreSQL {server.version} (fsync {server.fsync}, synchronous_commit "
        f"{server.synchronous_commit}, wal_sync_method {server.wal_sync_method}); NATS JetStream "
        f"sync_interval always; data on {machine.data_filesystem}",
        f"load      {settings['duration']:g} s per phase after {settings['warmup']:g} s warm-up; countries "
        f"{','.join(settings['countries'])}; one grpc.aio channel in a separate process",
        "",
        format_table(report.phases),
        "",
        "CPU seconds per 1,000 creates (phase start until the outbox is empty; client = the load process):",
        format_cpu_table(report.phases),
        "",
        "Raw PostgreSQL ceiling on the same server: single-row INSERT commits, a scratch table as wide:",
    ]
    for line in report.ceiling:
        connections = f"{line.connections} connection{'s' if line.connections > 1 else ''}"
        lines.append(
            f"  {connections:<15} {line.inserts_per_s:>9.0f} inserts/s   mean {line.latency_ms:.2f} ms   "
            f"({line.tool}{f', {line.failed} failed' if line.failed else ''})"
        )
    best = report.best_closed
    ratios = report.ratios()
    if best is not None and ratios:
        parts = ", ".join(
            f"{ratio:.3f} (÷ {connections} connection{'s' if connections > 1 else ''})"
            for connections, ratio in ratios.items()
        )
        lines.append(f"  best creates/s ({best.creates_per_s:.0f}/s, {best.load}) ÷ raw inserts/s: {parts}")
    lines += ["", *verdicts(report)]
    if report.failed:
        lines += ["", "FAILED: a phase had errors, made no progress, or left the outbox unpublished."]
    return "\n".join(lines)


def verdicts(report: BenchReport) -> list[str]:
    """SPEC §13's CreateApplication targets against this run's figures."""
    lines = ["SPEC §13 targets:"]
    best, open_loop = report.best_closed, report.open_loop
    if best is None:
        return [*lines, "  no closed-loop phase succeeded"]
    met = "met" if best.creates_per_s >= TARGET_CREATES_PER_S else "NOT met"
    lines.append(
        f"  ≥ {TARGET_CREATES_PER_S:,.0f} creates/s sustained: best {best.creates_per_s:,.0f}/s "
        f"({best.load}) — {met}"
    )
    if open_loop is None or open_loop.latency is None:
        return [*lines, "  p99 at 70% load: not measured"]
    p99 = open_loop.latency.p99_ms
    met = "met" if p99 < TARGET_P99_MS and not open_loop.failed else "NOT met"
    lines.append(
        f"  p99 < {TARGET_P99_MS:.0f} ms at 70% load: {p99:.1f} ms at {open_loop.offered_rate:.0f}/s "
        f"offered, {open_loop.creates_per_s:.0f}/s achieved — {met}"
    )
    spec_rate = TARGET_LOAD_FRACTION * TARGET_CREATES_PER_S
    if open_loop.offered_rate < spec_rate:
        lines.append(
            f"  (SPEC's 70% load is {spec_rate:.0f}/s; this run offered 70% of its own best. "
            f"`python -m bench --rate {spec_rate:.0f}` measures that.)"
        )
    if open_loop.send_lag_p99_ms is not None and open_loop.send_lag_p99_ms > 5:
        lines.append(
            f"  note: the client sent late (p99 {open_loop.send_lag_p99_ms:.1f} ms behind schedule); "
            "its latencies include that."
        )
    return lines
