"""The benchmark's sequence, on a started system:

1. Submit-to-decision (unless `creates_only`): open-loop arrivals at a fixed rate, then a closed loop
   that keeps the pipeline saturated; each waits until every application it created is decided. These
   come first, on a pipeline with nothing queued: the create phases make applications far faster than
   scoring decides them, and the backlog they leave would be measured instead.
2. The raw PostgreSQL insert ceiling, on a system with nothing left to do, for the same reason.
3. CreateApplication (unless `decisions_only`): closed-loop phases, an open-loop phase at a share of the
   best closed-loop rate, each followed by the outbox draining. Scoring is paused meanwhile (SIGSTOP, then
   SIGCONT): these phases measure what intake takes in, and on a 2-core machine scoring deciding the same
   applications would take most of the CPU; in production it runs on other nodes and catches up from the
   queue. `scoring_during_creates` keeps it running instead.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

from bench.cpu import CpuMeter
from bench.load import LoadClient, Phase
from bench.machine import machine_facts
from bench.pipeline import DecisionPhase
from bench.postgres import (
    decision_timelines,
    insert_ceiling,
    prepare_ceiling,
    server_facts,
    undecided_applications,
    wait_for_outbox,
)
from bench.report import (
    TARGET_LOAD_FRACTION,
    BenchReport,
    DecisionResult,
    PhaseResult,
    summarise,
    summarise_decisions,
)
from bench.scrape import Samples, pipeline_health, scrape
from bench.stack import SystemUnderTest

CEILING_CONNECTIONS = (1, 16)
# CPU meter names for the stack's components (devstack's names on the left).
_METERED = {
    "PostgreSQL": "PostgreSQL",
    "NATS": "NATS",
    "intake": "intake",
    "scoring": "scoring",
    "bureau-gateway": "bureau-gateway",
    "notifier": "notifier",
}
# The services whose counters say whether the pipeline ran clean.
_SCRAPED = ("bureau-gateway", "scoring")


@dataclass(frozen=True)
class Options:
    duration: float
    warmup: float
    concurrencies: Sequence[int]
    countries: Sequence[str]
    rate: float | None
    """Open-loop arrivals per second; None: TARGET_LOAD_FRACTION of the best closed-loop rate."""
    outbox_timeout: float
    decision_rate: float = 200.0
    """Submit-to-decision: open-loop arrivals per second."""
    saturation_concurrency: int = 64
    """Saturation: closed-loop workers, each with one application in the pipeline."""
    decision_timeout: float = 30.0
    """Seconds without a decision before the rest count as undecided."""
    decisions_only: bool = False
    creates_only: bool = False
    scoring_during_creates: bool = False


Progress = Callable[[str], None]


def run_benchmark(
    system: SystemUnderTest, client: LoadClient, options: Options, progress: Progress
) -> BenchReport:
    machine = machine_facts(system.run_dir)
    server = server_facts(system.database_url)
    meter = CpuMeter({label: system.pids[name] for name, label in _METERED.items() if name in system.pids})

    def scrape_services() -> dict[str, Samples]:
        return {name: scrape(system.metrics_urls[name]) for name in _SCRAPED if name in system.metrics_urls}

    def measure_decisions(phase: DecisionPhase) -> DecisionResult:
        if phase.kind == "rate":
            what = f"open loop, {phase.rate:g} arrivals/s"
        else:
            what = f"closed loop, {phase.concurrency} applications in the pipeline at once"
        progress(
            f"submit-to-decision, {phase.kind} {phase.label}: {what}, {phase.warmup:g} s warm-up + "
            f"{phase.duration:g} s, then every decision"
        )
        counters = scrape_services()
        before = meter.snapshot()
        samples = client.run_decisions(phase)
        spent = meter.spent(before, meter.snapshot())
        health = pipeline_health(counters, scrape_services())
        timelines = decision_timelines(system.database_url, samples.names)
        result = summarise_decisions(samples, spent, health, timelines)
        latency = result.latency
        progress(
            f"  {result.decided} of {result.created} decided ({result.undecided} not), "
            f"{result.error_count} create errors"
            + (f", p50 {latency.p50_ms:.1f} ms, p99 {latency.p99_ms:.1f} ms" if latency else "")
            + (f", {result.decisions_per_s:.1f} decisions/s" if result.decisions_per_s else "")
            + (f"; problems: {', '.join(result.problems)}" if result.problems else "")
        )
        return result

    decisions: list[DecisionResult] = []
    if not options.creates_only:
        decisions.append(
            measure_decisions(
                DecisionPhase.at_rate(
                    options.decision_rate,
                    duration=options.duration,
                    warmup=options.warmup,
                    stall_timeout=options.decision_timeout,
                )
            )
        )
        decisions.append(
            measure_decisions(
                DecisionPhase.saturation(
                    options.saturation_concurrency,
                    duration=options.duration,
                    warmup=options.warmup,
                    stall_timeout=options.decision_timeout,
                )
            )
        )

    # Before the create phases: the scoring backlog they leave would compete with pgbench.
    url = prepare_ceiling(system.postgres)
    ceiling = []
    for connections in CEILING_CONNECTIONS:
        progress(f"raw PostgreSQL inserts, {connections} connection(s): {options.duration:g} s")
        line = insert_ceiling(
            system.postgres, url, connections=connections, duration=options.duration, work_dir=system.run_dir
        )
        progress(f"  {line.inserts_per_s:.0f} inserts/s ({line.tool})")
        ceiling.append(line)

    def measure(phase: Phase) -> PhaseResult:
        progress(f"{phase.kind}-loop phase {phase.label}: {phase.warmup:g} s warm-up + {phase.duration:g} s")
        before = meter.snapshot()
        samples = client.run(phase)
        # Wait for the relay here, so that its work is charged to this phase and not to the next one.
        outbox = wait_for_outbox(system.database_url, options.outbox_timeout)
        result = summarise(samples, meter.spent(before, meter.snapshot()), outbox)
        progress(
            f"  {result.creates_per_s:.1f} creates/s, {result.error_count} errors, "
            f"outbox of {outbox.backlog} drained in {outbox.seconds:.2f} s"
        )
        return result

    phases: list[PhaseResult] = []
    rate = options.rate
    undecided: int | None = None
    if not options.decisions_only:
        scoring = None if options.scoring_during_creates else system.pids.get("scoring")
        if scoring is not None:
            progress("scoring paused for the create phases (they measure intake)")
            os.kill(scoring, signal.SIGSTOP)
        try:
            phases = [
                measure(Phase.closed(concurrency, duration=options.duration, warmup=options.warmup))
                for concurrency in options.concurrencies
            ]
            best = max((phase.creates_per_s for phase in phases if not phase.failed), default=0.0)
            rate = options.rate if options.rate is not None else round(best * TARGET_LOAD_FRACTION, 1)
            if rate > 0:
                phases.append(measure(Phase.open(rate, duration=options.duration, warmup=options.warmup)))
            else:
                progress("no closed-loop phase succeeded: no open-loop phase")
        finally:
            if scoring is not None:
                os.kill(scoring, signal.SIGCONT)
        undecided = undecided_applications(system.database_url)

    settings: Mapping[str, object] = {
        "scoring_paused_during_creates": not options.scoring_during_creates and "scoring" in system.pids,
        **asdict(options),
        "rate": rate,
        "bureau_simulation": dict(system.bureau_simulation),
    }
    return BenchReport(
        machine=machine,
        server=server,
        settings=settings,
        phases=phases,
        ceiling=ceiling,
        pids={**system.pids, **({"load": client.pid} if client.pid else {})},
        decision_phases=decisions,
        undecided_after_creates=undecided,
    )
