"""From raw samples to figures (rates, nearest-rank percentiles, CPU per 1,000 creates or decisions,
where submit-to-decision's time goes) and from figures to the printed report and its JSON form."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.load import PhaseSamples
from bench.machine import MachineFacts
from bench.pipeline import NOT_DECIDED, DecisionSamples
from bench.postgres import InsertCeiling, OutboxDrain, ServerFacts, Timeline
from bench.scrape import PipelineHealth

# SPEC §13, on the 2-core development machine.
TARGET_CREATES_PER_S = 1000.0
TARGET_P99_MS = 50.0
TARGET_LOAD_FRACTION = 0.7
TARGET_DECISION_RATE = 200.0
TARGET_DECISION_P50_MS = 50.0
TARGET_DECISION_P99_MS = 250.0
CPU_COLUMNS = ("intake", "scoring", "bureau-gateway", "notifier", "PostgreSQL", "NATS", "client")
# Where submit-to-decision's time goes: (label, from, to). Points of the client ("sent", "answered",
# "received"), of JetStream ("submitted_stored", "decision_stored": when the stream stored the event)
# and of intake's tables (bench.postgres.TIMELINE_POINTS). The first line overlaps the others, which
# follow one another.
STAGES = (
    ("CreateApplication, send -> answer", "sent", "answered"),
    ("create began -> submitted stored in JetStream", "created", "submitted_stored"),
    ("-> VALIDATING written (delivery, StartValidation)", "submitted_stored", "validating"),
    ("-> bureau answered (simulated 15-25 ms)", "validating", "reported"),
    ("-> scoring decided (rules)", "reported", "decided"),
    ("-> RecordDecision transaction began", "decided", "recording"),
    ("-> decision written", "recording", "written"),
    ("-> decision stored in JetStream (commit, relay)", "written", "decision_stored"),
    ("-> decision event received by the client", "decision_stored", "received"),
)


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
class Spread:
    """Median and 95th percentile of one stage, in milliseconds, over `count` applications."""

    p50_ms: float
    p95_ms: float
    count: int


@dataclass(frozen=True)
class DecisionResult:
    """A submit-to-decision phase's figures."""

    kind: str
    """"rate" (open loop at a fixed rate) or "saturation" (closed loop: the pipeline always busy)."""
    load: str
    offered_rate: float
    created: int
    errors: Mapping[str, int]
    """Failed creates by status code."""
    undecided: int
    """Applications created whose decision never showed on the stream."""
    outcomes: Mapping[str, int]
    latency: Latency | None
    """Send (scheduled) -> decision event received, for the applications sent after the warm-up."""
    measured: int
    """How many applications `latency` covers."""
    db_latency: Latency | None
    """decisions.created_at - applications.created_at, the same applications: intake's own view."""
    stages: Mapping[str, Spread]
    """Where the time went, by STAGES label."""
    decisions_per_s: float | None
    """Rate: decisions received per second from the first to the last; saturation: those received in
    the measured window, per second of it."""
    cpu_seconds: Mapping[str, float]
    """From the phase's start until every decision arrived, by component (see CPU_COLUMNS)."""
    seconds: float
    """From the phase's first send until the last decision arrived (or the wait gave up)."""
    health: PipelineHealth
    fallback_reports: int
    send_lag_p99_ms: float | None = None

    @property
    def decided(self) -> int:
        return sum(self.outcomes.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def problems(self) -> list[str]:
        found = [f"{code}: {count}" for code, count in self.errors.items()]
        if self.undecided:
            found.append(f"{self.undecided} undecided")
        if self.fallback_reports:
            found.append(f"{self.fallback_reports} fallback report(s)")
        return found + self.health.problems

    @property
    def failed(self) -> bool:
        return self.created == 0 or bool(self.problems)

    @property
    def cpu_ms_per_decision(self) -> float | None:
        """CPU milliseconds the stack's processes (not the load process) together spent per decision."""
        spent = sum(seconds for name, seconds in self.cpu_seconds.items() if name != "client")
        if self.decided == 0 or not spent:
            return None
        return spent / self.decided * 1000

    @property
    def busy_cpus(self) -> float | None:
        """How many CPUs the stack's processes kept busy on average during the phase."""
        spent = sum(seconds for name, seconds in self.cpu_seconds.items() if name != "client")
        return spent / self.seconds if self.seconds > 0 and spent else None

    def capacity(self, cpus: int) -> float:
        """Decisions per second `cpus` fully busy CPUs could give at this CPU cost: a ceiling that the
        machine's other work does not move."""
        per_decision = self.cpu_ms_per_decision
        return cpus * 1000 / per_decision if per_decision else 0.0

    def cpu_per_1000(self, component: str) -> float | None:
        """CPU seconds `component` spent per 1,000 decisions."""
        spent = self.cpu_seconds.get(component)
        if spent is None or self.decided == 0:
            return None
        return spent / self.decided * 1000


def summarise_decisions(
    samples: DecisionSamples,
    cpu_seconds: Mapping[str, float],
    health: PipelineHealth,
    timelines: Sequence[Timeline],
) -> DecisionResult:
    phase = samples.phase
    decided = [moment for moment in samples.decided_ns if moment != NOT_DECIDED]
    measured = [
        index
        for index, sent in enumerate(samples.sent_ns)
        if sent >= samples.measure_from_ns and samples.decided_ns[index] != NOT_DECIDED
    ]
    latency = Latency.of(samples.decided_ns[index] - samples.sent_ns[index] for index in measured)
    by_id = {str(timeline.application_id): timeline for timeline in timelines}
    offset = samples.clock_offset_ns / 1e9
    durations: dict[str, list[float]] = {label: [] for label, _, _ in STAGES}
    db_latencies: list[int] = []
    for index in measured:
        timeline = by_id.get(samples.names[index].rsplit("/", 1)[-1])
        received = samples.decided_ns[index]
        points: dict[str, float | None] = {
            "sent": samples.sent_ns[index] / 1e9 + offset,
            "answered": samples.created_ns[index] / 1e9 + offset,
            "received": None if received == NOT_DECIDED else received / 1e9 + offset,
            "submitted_stored": _known(samples.submitted_stored[index]),
            "decision_stored": _known(samples.decision_stored[index]),
            **(timeline.points if timeline is not None else {}),
        }
        for label, start, end in STAGES:
            began, ended = points.get(start), points.get(end)
            if began is not None and ended is not None:
                durations[label].append((ended - began) * 1000)
        created, recording = points.get("created"), points.get("recording")
        if created is not None and recording is not None:
            db_latencies.append(round((recording - created) * 1e9))
    stages = {
        label: Spread(percentile(values, 50), percentile(values, 95), len(values))
        for label, values in durations.items()
        if values
    }
    if phase.kind == "saturation":
        window = (samples.measure_to_ns - samples.measure_from_ns) / 1e9
        inside = sum(1 for moment in decided if samples.measure_from_ns <= moment <= samples.measure_to_ns)
        decisions_per_s = inside / window if window > 0 else None
    else:
        decisions_per_s = _rate(decided)
    return DecisionResult(
        kind=phase.kind,
        load=phase.label,
        offered_rate=phase.rate,
        created=len(samples.names),
        errors=dict(sorted(samples.errors.items())),
        undecided=samples.undecided,
        outcomes=samples.outcome_counts(),
        latency=latency,
        measured=len(measured),
        db_latency=Latency.of(db_latencies),
        stages=stages,
        decisions_per_s=decisions_per_s,
        cpu_seconds={**cpu_seconds, "client": samples.client_cpu_seconds},
        seconds=(samples.ended_ns - samples.started_ns) / 1e9,
        health=health,
        fallback_reports=sum(1 for timeline in timelines if timeline.fallback),
        send_lag_p99_ms=percentile(samples.send_lag_ns, 99) / 1e6 if samples.send_lag_ns else None,
    )


def _known(value: float) -> float | None:
    return None if math.isnan(value) else value


def _rate(moments: Sequence[int]) -> float | None:
    """Events per second between the first and the last of `moments` (nanoseconds): (n - 1) / span."""
    if len(moments) < 2:
        return None
    span = (max(moments) - min(moments)) / 1e9
    return (len(moments) - 1) / span if span > 0 else None


@dataclass(frozen=True)
class BenchReport:
    machine: MachineFacts
    server: ServerFacts
    settings: Mapping[str, Any]
    phases: Sequence[PhaseResult]
    ceiling: Sequence[InsertCeiling]
    pids: Mapping[str, int] = field(default_factory=dict)
    decision_phases: Sequence[DecisionResult] = ()
    undecided_after_creates: int | None = None
    """Applications the create phases left waiting for scoring when they ended."""

    @property
    def best_closed(self) -> PhaseResult | None:
        closed = [phase for phase in self.phases if phase.kind == "closed" and not phase.failed]
        return max(closed, key=lambda phase: phase.creates_per_s, default=None)

    @property
    def open_loop(self) -> PhaseResult | None:
        return next((phase for phase in self.phases if phase.kind == "open"), None)

    @property
    def at_rate(self) -> DecisionResult | None:
        return next((phase for phase in self.decision_phases if phase.kind == "rate"), None)

    @property
    def saturation(self) -> DecisionResult | None:
        return next((phase for phase in self.decision_phases if phase.kind == "saturation"), None)

    @property
    def failed(self) -> bool:
        if not self.phases and not self.decision_phases:
            return True
        return any(phase.failed for phase in self.phases) or any(
            phase.failed for phase in self.decision_phases
        )

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
        for phase, decisions in zip(document["decision_phases"], self.decision_phases, strict=True):
            phase["decided"] = decisions.decided
            phase["errors_total"] = decisions.error_count
            phase["problems"] = decisions.problems
            phase["failed"] = decisions.failed
            phase["cpu_seconds_per_1000_decisions"] = {
                name: decisions.cpu_per_1000(name) for name in decisions.cpu_seconds
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
    header = f"{'phase':<7} {'load':>8} " + " ".join(f"{name:>14}" for name in CPU_COLUMNS)
    lines = [header, "-" * len(header)]
    for phase in phases:
        cells = " ".join(f"{_seconds(phase.cpu_per_1000(name)):>14}" for name in CPU_COLUMNS)
        lines.append(f"{phase.kind:<7} {phase.load:>8} {cells}")
    return "\n".join(lines)


def format_decision_table(phases: Sequence[DecisionResult]) -> str:
    header = (
        f"{'phase':<10} {'load':>7} {'created':>8} {'decided':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'decisions/s':>12} {'errors':>7}  outcomes"
    )
    lines = [header, "-" * len(header)]
    for phase in phases:
        latency = phase.latency
        outcomes = ", ".join(f"{name} {count}" for name, count in phase.outcomes.items()) or "—"
        line = (
            f"{phase.kind:<10} {phase.load:>7} {phase.created:>8} {phase.decided:>8} "
            f"{_ms(latency.p50_ms if latency else None):>8} {_ms(latency.p95_ms if latency else None):>8} "
            f"{_ms(latency.p99_ms if latency else None):>8} {_ms(latency.max_ms if latency else None):>8} "
            f"{_rate_text(phase.decisions_per_s):>12} {phase.error_count:>7}  {outcomes}"
        )
        if phase.failed:
            line += "  FAILED " + ", ".join(phase.problems)
        lines.append(line)
    return "\n".join(lines)


def format_decision_notes(phases: Sequence[DecisionResult], cpus: int) -> list[str]:
    lines: list[str] = []
    for phase in phases:
        if phase.kind == "rate" and phase.db_latency is not None:
            db = phase.db_latency
            lines.append(
                f"  {phase.load}: intake's own view (decisions.created_at - applications.created_at, "
                f"the same {phase.measured} applications): p50 {_ms(db.p50_ms)}, p95 {_ms(db.p95_ms)}, "
                f"p99 {_ms(db.p99_ms)} ms"
            )
            if phase.decisions_per_s is not None and phase.decisions_per_s < 0.95 * phase.offered_rate:
                lines.append(
                    f"  note: the pipeline fell behind ({phase.decisions_per_s:.0f} decisions/s against "
                    f"{phase.offered_rate:.0f}/s offered): a backlog grew through the phase, and the "
                    "latencies measure it."
                )
            if phase.send_lag_p99_ms is not None and phase.send_lag_p99_ms > 5:
                lines.append(
                    f"  note: the client sent late (p99 {phase.send_lag_p99_ms:.1f} ms behind schedule); "
                    "its latencies include that."
                )
        if phase.kind == "saturation" and phase.cpu_ms_per_decision is not None:
            ceiling = phase.capacity(cpus)
            client = phase.cpu_per_1000("client") or 0.0
            lines.append(
                f"  {phase.load}: the stack's processes spent {phase.cpu_ms_per_decision:.1f} CPU-ms per "
                f"decision (the load process {client:.1f} more): at most {ceiling:.0f} decisions/s on "
                f"{cpus} CPUs doing nothing else"
            )
        if phase.busy_cpus is not None:
            lines.append(
                f"  {phase.load}: the stack kept {phase.busy_cpus:.2f} of {cpus} CPUs busy over "
                f"{phase.seconds:.1f} s (the rest: the load process, the kernel, other work on the machine)"
            )
        health = phase.health
        attempts = ", ".join(f"{count} {outcome}" for outcome, count in health.bureau_attempts.items())
        jobs = ", ".join(f"{count} {result}" for result, count in health.jobs.items())
        settled = ", ".join(f"{count} {outcome}" for outcome, count in health.job_settlements.items())
        lines.append(
            f"  {phase.load}: bureau attempts {attempts or 'none'}; fallback reports "
            f"{phase.fallback_reports}; circuits not closed {health.circuits_not_closed}; scoring jobs "
            f"{jobs or 'none'} (messages {settled or 'none'})"
        )
    return lines


def format_stages(phase: DecisionResult) -> str:
    width = max(len(label) for label, _, _ in STAGES)
    header = f"  {'stage':<{width}} {'p50 ms':>8} {'p95 ms':>8}"
    lines = [header]
    for label, _, _ in STAGES:
        spread = phase.stages.get(label)
        lines.append(
            f"  {label:<{width}} {_ms(spread.p50_ms if spread else None):>8} "
            f"{_ms(spread.p95_ms if spread else None):>8}"
        )
    return "\n".join(lines)


def format_decision_cpu_table(phases: Sequence[DecisionResult]) -> str:
    header = f"{'phase':<10} {'load':>7} " + " ".join(f"{name:>14}" for name in CPU_COLUMNS)
    lines = [header, "-" * len(header)]
    for phase in phases:
        cells = " ".join(f"{_seconds(phase.cpu_per_1000(name)):>14}" for name in CPU_COLUMNS)
        lines.append(f"{phase.kind:<10} {phase.load:>7} {cells}")
    return "\n".join(lines)


def _rate_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def format_report(report: BenchReport) -> str:
    machine, server, settings = report.machine, report.server, report.settings
    load = ", ".join(f"{value:.2f}" for value in machine.load_average)
    lines = [
        "Global Credit Core benchmark (make bench): submit-to-decision and CreateApplication",
        f"machine   {machine.cpus} CPUs, {machine.cpu_model}, {machine.memory_gib} GiB, Linux "
        f"{machine.kernel}, Python {machine.python}; load average at start {load}",
        f"date      {machine.date}",
        f"servers   PostgreSQL {server.version} (fsync {server.fsync}, synchronous_commit "
        f"{server.synchronous_commit}, wal_sync_method {server.wal_sync_method}); NATS JetStream "
        f"sync_interval always; data on {machine.data_filesystem}",
        f"load      {settings['duration']:g} s per phase after {settings['warmup']:g} s warm-up; countries "
        f"{','.join(settings['countries'])}; one grpc.aio channel in a separate process",
    ]
    if report.decision_phases:
        bureau = settings.get("bureau_simulation") or {}
        lines += [
            "",
            "Submit-to-decision: from the create's scheduled send to its decision event arriving on "
            "JetStream (intake.application.status_changed, ordered consumer in the load process); "
            "simulated bureau "
            f"{_bureau_text(bureau)}:",
            format_decision_table(report.decision_phases),
            *format_decision_notes(report.decision_phases, machine.cpus),
        ]
        at_rate = report.at_rate
        if at_rate is not None and at_rate.stages:
            lines += [
                "",
                f"Where the time goes at {at_rate.load} ({at_rate.measured} applications after the warm-up; "
                "server points from intake's tables, one wall clock):",
                format_stages(at_rate),
            ]
        lines += [
            "",
            "CPU seconds per 1,000 decisions (phase start until every decision arrived):",
            format_decision_cpu_table(report.decision_phases),
        ]
    if report.phases:
        lines += [
            "",
            format_table(report.phases),
            "",
            "CPU seconds per 1,000 creates (phase start until the outbox is empty; client = the load "
            "process):",
            format_cpu_table(report.phases),
        ]
        if report.settings.get("scoring_paused_during_creates"):
            lines.append(
                "  note: scoring was paused during these phases, so they measure what intake takes in; "
                "the applications they left waited in the queue and were decided afterwards."
            )
        elif report.undecided_after_creates:
            lines.append(
                f"  note: scoring and bureau-gateway run during these phases and work on the applications "
                f"they create (their CPU is above); {report.undecided_after_creates} were still waiting "
                "for a decision when the last one ended."
            )
    lines += [
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
        lines += [
            "",
            "FAILED: a phase had errors, made no progress, left the outbox unpublished or applications "
            "undecided, or the bureau did not answer cleanly.",
        ]
    return "\n".join(lines)


def _bureau_text(settings: Mapping[str, str]) -> str:
    try:
        latency = float(settings["BUREAU_LATENCY_SECONDS"]) * 1000
        jitter = float(settings["BUREAU_LATENCY_JITTER_SECONDS"]) * 1000
        failures = float(settings.get("BUREAU_FAILURE_RATE", "0"))
    except (KeyError, ValueError):
        return "with bureau-gateway's default settings"
    return (
        f"{latency:g} ms + U(0, {jitter:g}) ms (mean {latency + jitter / 2:g} ms), failure rate {failures:g}"
    )


def verdicts(report: BenchReport) -> list[str]:
    """SPEC §13's targets against this run's figures."""
    lines = ["SPEC §13 targets:"]
    if report.decision_phases:
        lines += decision_verdicts(report)
    if report.phases:
        lines += create_verdicts(report)
    return lines


def decision_verdicts(report: BenchReport) -> list[str]:
    lines: list[str] = []
    at_rate, saturation = report.at_rate, report.saturation
    if at_rate is None or at_rate.latency is None:
        lines.append("  submit-to-decision at 200/s: not measured")
    else:
        latency, clean = at_rate.latency, not at_rate.failed
        for name, value, target in (
            ("p50", latency.p50_ms, TARGET_DECISION_P50_MS),
            ("p99", latency.p99_ms, TARGET_DECISION_P99_MS),
        ):
            met = "met" if value < target and clean else "NOT met"
            lines.append(
                f"  submit-to-decision {name} < {target:.0f} ms at {TARGET_DECISION_RATE:.0f}/s: "
                f"{value:.1f} ms at {at_rate.offered_rate:.0f}/s offered — {met}"
            )
        if at_rate.offered_rate < TARGET_DECISION_RATE:
            lines.append(
                f"  (SPEC's rate is {TARGET_DECISION_RATE:.0f}/s; this run offered "
                f"{at_rate.offered_rate:.0f}/s. `python -m bench --decision-rate "
                f"{TARGET_DECISION_RATE:.0f}` measures that.)"
            )
    if saturation is not None and saturation.decisions_per_s is not None:
        enough = saturation.decisions_per_s >= TARGET_DECISION_RATE
        lines.append(
            f"  decisions/s at saturation: {saturation.decisions_per_s:.0f}/s ({saturation.load}); "
            f"{'above' if enough else 'BELOW'} the {TARGET_DECISION_RATE:.0f}/s the latency target assumes"
        )
        ceiling = saturation.capacity(report.machine.cpus)
        if ceiling:
            lines.append(
                f"  (its CPU cost allows at most {ceiling:.0f} decisions/s on {report.machine.cpus} CPUs "
                f"doing nothing else: {'above' if ceiling >= TARGET_DECISION_RATE else 'BELOW'} "
                f"{TARGET_DECISION_RATE:.0f}/s)"
            )
    return lines


def create_verdicts(report: BenchReport) -> list[str]:
    """SPEC §13's CreateApplication targets against this run's figures."""
    lines: list[str] = []
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
