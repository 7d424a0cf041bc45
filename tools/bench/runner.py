"""The benchmark's sequence, on a started system: closed-loop phases, an open-loop phase at a share of the
best closed-loop rate, each followed by the outbox draining, then the raw PostgreSQL insert ceiling."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from bench.cpu import CpuMeter
from bench.load import LoadClient, Phase
from bench.machine import machine_facts
from bench.postgres import insert_ceiling, prepare_ceiling, server_facts, wait_for_outbox
from bench.report import TARGET_LOAD_FRACTION, BenchReport, PhaseResult, summarise
from bench.stack import SystemUnderTest

CEILING_CONNECTIONS = (1, 16)
# CPU meter names for the stack's components (devstack's names on the left).
_METERED = {"PostgreSQL": "PostgreSQL", "NATS": "NATS", "intake": "intake"}


@dataclass(frozen=True)
class Options:
    duration: float
    warmup: float
    concurrencies: Sequence[int]
    countries: Sequence[str]
    rate: float | None
    """Open-loop arrivals per second; None: TARGET_LOAD_FRACTION of the best closed-loop rate."""
    outbox_timeout: float


Progress = Callable[[str], None]


def run_benchmark(
    system: SystemUnderTest, client: LoadClient, options: Options, progress: Progress
) -> BenchReport:
    machine = machine_facts(system.run_dir)
    server = server_facts(system.database_url)
    meter = CpuMeter({label: system.pids[name] for name, label in _METERED.items()})

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

    url = prepare_ceiling(system.postgres)
    ceiling = []
    for connections in CEILING_CONNECTIONS:
        progress(f"raw PostgreSQL inserts, {connections} connection(s): {options.duration:g} s")
        line = insert_ceiling(
            system.postgres, url, connections=connections, duration=options.duration, work_dir=system.run_dir
        )
        progress(f"  {line.inserts_per_s:.0f} inserts/s ({line.tool})")
        ceiling.append(line)

    return BenchReport(
        machine=machine,
        server=server,
        settings={**asdict(options), "rate": rate},
        phases=phases,
        ceiling=ceiling,
        pids={**system.pids, **({"load": client.pid} if client.pid else {})},
    )
