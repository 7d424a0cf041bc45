"""`python -m bench` (`make bench`): submit-to-decision latency at a fixed arrival rate and decisions per
second at saturation, then CreateApplication throughput and latency, on a private, durable dev stack,
beside the same PostgreSQL server's raw single-row insert rate. `--decisions` measures only the pipeline,
`--creates` only CreateApplication.

Progress goes to stderr, the report to stdout (and to `--json FILE`). Exit status: 0 when every phase ran
without an error, 1 when one had errors, left the outbox unpublished or applications undecided, or saw
the bureau fail, 2 when the benchmark could not run, 130 on Ctrl-C. Everything started is stopped by PID
on the way out.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from bench.load import LoadClient, LoadError
from bench.postgres import CeilingError
from bench.report import TARGET_DECISION_RATE, format_report
from bench.runner import Options, run_benchmark
from bench.scrape import ScrapeError
from bench.stack import BenchStack, make_run_dir
from devstack.config import ConfigError
from devstack.console import Console
from svckit.local import LocalServerError

COUNTRIES = ("ES", "PT", "IT", "MX", "CO", "BR")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="On a dev stack of its own with durable settings: submit applications at a fixed rate "
        "and time each one until its decision shows on JetStream, then keep the pipeline saturated "
        "(closed loop) and count decisions per second; then drive CreateApplication over gRPC at "
        "several concurrencies (closed loop) and at a fixed arrival rate (open loop). Print "
        "p50/p95/p99, decisions/s, creates/s and CPU per 1,000 beside the same server's raw PostgreSQL "
        "insert rate.",
    )
    parser.add_argument("--duration", type=_positive, default=10.0, help="seconds measured per phase (10)")
    parser.add_argument("--warmup", type=_not_negative, default=2.0, help="seconds discarded first (2)")
    parser.add_argument(
        "--concurrency",
        type=_concurrencies,
        default=(1, 8, 32, 64),
        metavar="C,C,…",
        help="closed-loop worker counts (1,8,32,64)",
    )
    parser.add_argument(
        "--countries", type=_countries, default=COUNTRIES, metavar="CC,…", help="round-robin (all six)"
    )
    parser.add_argument(
        "--rate",
        type=_positive,
        default=None,
        help="open-loop arrivals per second (default: 70%% of the best closed-loop rate)",
    )
    parser.add_argument(
        "--outbox-timeout", type=_positive, default=120.0, help="seconds the outbox may take to empty (120)"
    )
    parser.add_argument(
        "--decision-rate",
        type=_positive,
        default=TARGET_DECISION_RATE,
        help=f"submit-to-decision: arrivals per second ({TARGET_DECISION_RATE:g}, SPEC §13's)",
    )
    parser.add_argument(
        "--saturation-concurrency",
        type=_count,
        default=64,
        metavar="K",
        help="decisions/s at saturation: closed-loop workers, one application in the pipeline each (64)",
    )
    parser.add_argument(
        "--decision-timeout",
        type=_positive,
        default=30.0,
        help="seconds without a decision before the rest count as undecided (30)",
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument(
        "--decisions", action="store_true", help="only submit-to-decision (and the insert ceiling)"
    )
    only.add_argument(
        "--creates", action="store_true", help="only CreateApplication (and the insert ceiling)"
    )
    parser.add_argument(
        "--scoring-during-creates",
        action="store_true",
        help="keep scoring running during the create phases (by default it is paused: they measure intake)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every figure to FILE")
    parser.add_argument(
        "--keep-run-dir", action="store_true", help="keep the run directory (data, logs) afterwards"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    options = Options(
        duration=args.duration,
        warmup=args.warmup,
        concurrencies=args.concurrency,
        countries=args.countries,
        rate=args.rate,
        outbox_timeout=args.outbox_timeout,
        decision_rate=args.decision_rate,
        saturation_concurrency=args.saturation_concurrency,
        decision_timeout=args.decision_timeout,
        decisions_only=args.decisions,
        creates_only=args.creates,
        scoring_during_creates=args.scoring_during_creates,
    )
    # Both end the run as KeyboardInterrupt; SIGINT explicitly, for a shell that started us ignoring it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    console = Console(sys.stderr)
    stack = BenchStack(make_run_dir(), console)
    client: LoadClient | None = None
    status = 2
    try:
        system = stack.start()
        client = LoadClient(system.intake_address, system.token, options.countries, nats_url=system.nats_url)
        console.line("Starting the load process")
        client.start()
        report = run_benchmark(system, client, options, console.line)
        print(format_report(report), flush=True)
        if args.json is not None:
            args.json.write_text(json.dumps(report.to_json(), indent=2) + "\n")
        status = 1 if report.failed else 0
    except KeyboardInterrupt:
        console.line("Interrupted.")
        status = 130
    except (ConfigError, LocalServerError, LoadError, CeilingError, ScrapeError) as error:
        console.line(f"bench: {error}")
    finally:
        # Stopping must not be cut short: everything started goes down, by PID.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if client is not None:
            client.stop()
        stack.stop()
        if status == 2 or args.keep_run_dir:
            console.line(f"Run directory kept (logs in {stack.config.logs_dir}): {stack.run_dir}")
        else:
            stack.remove_run_dir()
    return status


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def _not_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, not {text}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _concurrencies(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 1,8,32, not {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("concurrencies must be at least 1")
    return values


def _countries(text: str) -> tuple[str, ...]:
    values = tuple(part.strip().upper() for part in text.split(",") if part.strip())
    unknown = sorted(set(values) - set(COUNTRIES))
    if not values or unknown:
        raise argparse.ArgumentTypeError(f"countries are {','.join(COUNTRIES)}; unknown: {','.join(unknown)}")
    return values


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
