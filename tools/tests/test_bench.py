"""The benchmark: its arithmetic on known data, and one short real run of `python -m bench`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from array import array
from pathlib import Path

import pytest

from bench.load import Phase, PhaseSamples, RequestSource
from bench.machine import MachineFacts
from bench.postgres import InsertCeiling, OutboxDrain, ServerFacts, parse_pgbench
from bench.report import BenchReport, Latency, format_report, format_table, percentile, summarise
from globalcredit.intake.v1 import intake_service_pb2
from svckit.local.procfs import running

BENCH = (sys.executable, "-m", "bench")
MS = 1_000_000
DRAINED = OutboxDrain(backlog=3, seconds=0.05, drained=True)


def closed_samples(**changes: object) -> PhaseSamples:
    samples = PhaseSamples(
        Phase.closed(8, duration=10.0, warmup=2.0),
        latencies_ns=array("q", [ms * MS for ms in range(1, 101)]),
        completed_in_window=2500,
        window_seconds=10.0,
        succeeded=3000,
        client_cpu_seconds=0.9,
    )
    for name, value in changes.items():
        setattr(samples, name, value)
    return samples


def test_percentiles_are_nearest_rank_values_that_were_observed() -> None:
    values = list(range(100, 0, -1))  # 1..100, unsorted

    assert [percentile(values, q) for q in (50, 95, 99, 100)] == [50, 95, 99, 100]
    assert percentile([7.0], 99) == 7.0
    assert percentile([1, 2, 3, 4], 50) == 2
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_latency_is_reported_in_milliseconds() -> None:
    latency = Latency.of(ms * MS for ms in range(1, 1001))

    assert latency == Latency(p50_ms=500.0, p95_ms=950.0, p99_ms=990.0, max_ms=1000.0)
    assert Latency.of([]) is None


def test_a_phase_summary_gives_the_rate_in_the_window_and_cpu_per_thousand_creates() -> None:
    result = summarise(closed_samples(), {"intake": 9.0, "PostgreSQL": 3.0, "NATS": 0.6}, DRAINED)

    assert result.creates_per_s == 250.0
    assert result.latency is not None
    assert (result.latency.p50_ms, result.latency.p99_ms) == (50.0, 99.0)
    assert result.cpu_per_1000("intake") == pytest.approx(3.0)
    assert result.cpu_per_1000("client") == pytest.approx(0.3)
    assert result.error_count == 0
    assert not result.failed


def test_a_phase_with_errors_is_a_failed_line_naming_the_codes() -> None:
    result = summarise(
        closed_samples(errors={"UNAVAILABLE": 2, "ALREADY_EXISTS": 1}), {"intake": 1.0}, DRAINED
    )

    table = format_table([result])

    assert result.failed
    assert result.error_count == 3
    assert "FAILED ALREADY_EXISTS: 1, UNAVAILABLE: 2" in table


def test_an_outbox_left_unpublished_fails_the_phase() -> None:
    stuck = OutboxDrain(backlog=500, seconds=120.0, drained=False)

    result = summarise(closed_samples(), {"intake": 1.0}, stuck)

    assert result.failed
    assert ">120" in format_table([result])


def test_the_report_prints_the_table_the_ceiling_and_the_ratios() -> None:
    closed = summarise(closed_samples(), {"intake": 9.0, "PostgreSQL": 3.0, "NATS": 0.6}, DRAINED)
    open_samples = closed_samples(
        phase=Phase.open(175.0, duration=10.0, warmup=2.0), completed_in_window=1750
    )
    report = BenchReport(
        machine=MachineFacts(
            2, "Test CPU", 4.0, "6.1", "3.11.7", "2026-01-01T00:00Z", (0.5, 0.4, 0.3), "ext4"
        ),
        server=ServerFacts("15.20", "on", "on", "on", "fdatasync"),
        settings={"duration": 10.0, "warmup": 2.0, "countries": ["ES"]},
        phases=[closed, summarise(open_samples, {"intake": 6.0}, DRAINED)],
        ceiling=[
            InsertCeiling(1, 2500.0, 0.4, 25000, 0, "pgbench"),
            InsertCeiling(16, 10000.0, 1.6, 100000, 0, "pgbench"),
        ],
    )

    text = format_report(report)

    assert "creates/s" in text
    assert re.search(r"closed +C=8 +250\.0 +50\.00 +95\.00 +99\.00 +0 +3\.00 +0\.05", text)
    assert re.search(r"open +175/s +175\.0 ", text)
    assert re.search(r"1 connection +2500 inserts/s", text)
    assert "÷ raw inserts/s: 0.100 (÷ 1 connection), 0.025 (÷ 16 connections)" in text
    assert "best 250/s (C=8) — NOT met" in text
    assert "p99 < 50 ms at 70% load: 99.0 ms at 175/s offered" in text
    assert not report.failed
    assert report.to_json()["ratios"] == {"1_connections": 0.1, "16_connections": 0.025}


def test_pgbench_summaries_are_parsed() -> None:
    output = """\
transaction type: /tmp/raw-insert.sql
number of clients: 16
number of transactions actually processed: 209480
number of failed transactions: 0 (0.000%)
latency average = 0.763 ms
initial connection time = 12.345 ms
tps = 20948.123456 (without initial connection time)
"""

    assert parse_pgbench(output, 16) == InsertCeiling(16, 20948.123456, 0.763, 209480, 0, "pgbench")


def test_requests_are_valid_round_robin_and_never_repeat_a_document() -> None:
    source = RequestSource(["ES", "BR"], seed=7)
    source.top_up(4)

    requests = [intake_service_pb2.CreateApplicationRequest.FromString(source.next()) for _ in range(400)]

    countries = [request.application.country for request in requests]
    assert countries[:4] == [1, 6, 1, 6]  # COUNTRY_ES, COUNTRY_BR
    documents = [(r.application.country, r.application.applicant.identity_document) for r in requests]
    assert len(set(documents)) == len(documents)
    assert len({request.request_id for request in requests}) == len(requests)
    assert source.generated == 396  # made on demand once the four prepared ones were used


def test_a_short_real_run_prints_the_table_with_a_positive_rate_and_no_errors(tmp_path: Path) -> None:
    figures = tmp_path / "bench.json"

    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            *BENCH,
            "--duration",
            "1",
            "--warmup",
            "0.5",
            "--concurrency",
            "2",
            "--countries",
            "ES",
            "--json",
            str(figures),
        ],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"phase +load +creates/s +p50 ms +p95 ms +p99 ms +errors", result.stdout)
    assert re.search(r"closed +C=2 +\d+\.\d", result.stdout)
    assert "inserts/s" in result.stdout
    document = json.loads(figures.read_text())
    closed, open_loop = document["phases"]
    assert closed["load"] == "C=2"
    assert closed["creates_per_s"] > 0
    assert closed["errors_total"] == open_loop["errors_total"] == 0
    assert open_loop["kind"] == "open"
    assert [line["connections"] for line in document["ceiling"]] == [1, 16]
    assert all(line["inserts_per_s"] > 0 for line in document["ceiling"])
    assert document["server"]["fsync"] == "on"
    assert document["server"]["synchronous_commit"] == "on"
    assert not any(running(pid) for pid in document["pids"].values())  # everything stopped
