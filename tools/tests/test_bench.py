"""The benchmark: its arithmetic on known data, and one short real run of `python -m bench`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from array import array
from pathlib import Path
from uuid import UUID

import pytest

from bench.load import SANDBOX_DOCUMENTS, Phase, PhaseSamples, RequestSource
from bench.machine import MachineFacts
from bench.pipeline import NOT_DECIDED, DecisionPhase, DecisionSamples
from bench.postgres import TIMELINE_POINTS, InsertCeiling, OutboxDrain, ServerFacts, Timeline, parse_pgbench
from bench.report import (
    BenchReport,
    Latency,
    format_report,
    format_table,
    percentile,
    summarise,
    summarise_decisions,
)
from bench.scrape import PipelineHealth, parse, pipeline_health
from globalcredit.intake.v1 import intake_service_pb2
from globalcredit.type.v1 import decision_pb2
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


MACHINE = MachineFacts(2, "Test CPU", 4.0, "6.1", "3.11.7", "2026-01-01T00:00Z", (0.5, 0.4, 0.3), "ext4")
SERVER = ServerFacts("15.20", "on", "on", "on", "fdatasync")
CLEAN = PipelineHealth(
    bureau_attempts={"ok": 100}, circuits_not_closed=0, jobs={"decided": 100}, job_settlements={"ack": 100}
)
APPROVE, REJECT = decision_pb2.DECISION_OUTCOME_APPROVE, decision_pb2.DECISION_OUTCOME_REJECT


def decision_samples(count: int = 100) -> tuple[DecisionSamples, list[Timeline]]:
    """`count` applications sent every 10 ms from t=1 s, each decided (1 + its number) ms later; the first
    ten in the warm-up. The clocks agree: perf_counter 0 is the epoch."""
    samples = DecisionSamples(
        DecisionPhase.at_rate(100.0, duration=0.9, warmup=0.1, stall_timeout=30.0),
        measure_from_ns=1_100 * MS,
        measure_to_ns=2_000 * MS,
        sending_ended_ns=2_100 * MS,
        started_ns=1_000 * MS,
        ended_ns=2_100 * MS,
        client_cpu_seconds=0.2,
    )
    timelines = []
    for number in range(count):
        sent = 1_000 * MS + number * 10 * MS
        samples.names.append(f"applications/00000000-0000-0000-0000-{number:012d}")
        samples.sent_ns.append(sent)
        samples.created_ns.append(sent + 2 * MS)
        samples.decided_ns.append(sent + (number + 1) * MS)
        samples.outcomes.append(APPROVE if number % 4 else REJECT)
        samples.submitted_stored.append(sent / 1e9 + 0.004)
        samples.decision_stored.append((sent + number * MS) / 1e9)
        created = sent / 1e9 + 0.001
        points = dict.fromkeys(TIMELINE_POINTS, created + 0.003)
        points.update(created=created, recording=created + 0.030)
        timelines.append(Timeline(UUID(samples.names[-1].rsplit("/")[-1]), points, fallback=False))
    return samples, timelines


def test_submit_to_decision_counts_from_the_scheduled_send_after_the_warm_up() -> None:
    samples, timelines = decision_samples()

    result = summarise_decisions(samples, {"scoring": 0.5, "intake": 1.0}, CLEAN, timelines)

    assert (result.created, result.decided, result.undecided, result.measured) == (100, 100, 0, 90)
    assert result.latency == Latency(p50_ms=55.0, p95_ms=96.0, p99_ms=100.0, max_ms=100.0)
    assert result.outcomes == {"APPROVE": 75, "REJECT": 25}
    assert result.db_latency is not None
    assert result.db_latency.p50_ms == pytest.approx(30.0)
    assert result.stages["CreateApplication, send -> answer"].p50_ms == pytest.approx(2.0)
    assert result.stages["create began -> submitted stored in JetStream"].p50_ms == pytest.approx(3.0)
    assert result.stages["-> decision event received by the client"].p50_ms == pytest.approx(1.0)
    assert result.cpu_per_1000("scoring") == pytest.approx(5.0)
    assert result.cpu_per_1000("client") == pytest.approx(2.0)
    assert not result.failed


def test_an_undecided_application_or_a_bureau_failure_fails_the_decision_phase() -> None:
    samples, timelines = decision_samples()
    samples.decided_ns[50] = NOT_DECIDED
    flaky = PipelineHealth(
        bureau_attempts={"ok": 99, "unavailable": 1},
        circuits_not_closed=0,
        jobs={"decided": 100},
        job_settlements={"ack": 100},
    )

    undecided = summarise_decisions(samples, {}, CLEAN, timelines)
    failing = summarise_decisions(decision_samples()[0], {}, flaky, timelines)

    assert undecided.failed
    assert undecided.problems == ["1 undecided"]
    assert undecided.decided == 99
    assert failing.failed
    assert failing.problems == ["1 bureau unavailable"]


def test_the_report_prints_submit_to_decision_against_the_targets() -> None:
    samples, timelines = decision_samples()
    closed, closed_timelines = decision_samples()
    closed.phase = DecisionPhase.saturation(8, duration=0.9, warmup=0.1, stall_timeout=30.0)
    report = BenchReport(
        machine=MACHINE,
        server=SERVER,
        settings={"duration": 0.9, "warmup": 0.1, "countries": ["ES"], "bureau_simulation": {}},
        phases=[],
        ceiling=[InsertCeiling(1, 2500.0, 0.4, 25000, 0, "pgbench")],
        decision_phases=[
            summarise_decisions(samples, {"intake": 1.0}, CLEAN, timelines),
            summarise_decisions(closed, {"intake": 1.0}, CLEAN, closed_timelines),
        ],
    )

    text = format_report(report)

    assert re.search(r"rate +100/s +100 +100 +55\.00 +96\.00 +100\.0 +100\.0 ", text)
    assert "APPROVE 75, REJECT 25" in text
    # The decisions of the 9th to the 90th application arrive in the 0.9 s window: 82 / 0.9 s.
    assert re.search(r"saturation +K=8 +100 +100 .* 91\.1 +0 ", text)
    assert "decisions/s at saturation: 91/s (K=8)" in text
    assert "submit-to-decision p50 < 50 ms at 200/s: 55.0 ms at 100/s offered — NOT met" in text
    assert "submit-to-decision p99 < 250 ms at 200/s: 100.0 ms at 100/s offered — met" in text
    assert "this run offered 100/s" in text
    assert not report.failed
    document = report.to_json()
    assert [phase["kind"] for phase in document["decision_phases"]] == ["rate", "saturation"]
    assert document["decision_phases"][0]["cpu_seconds_per_1000_decisions"]["intake"] == pytest.approx(10.0)


def test_service_counters_are_read_from_the_prometheus_text() -> None:
    before = """\
# HELP bureau_calls_total Bureau calls by outcome
# TYPE bureau_calls_total counter
bureau_calls_total{country="ES",outcome="ok",provider="Equifax ES"} 10.0
bureau_calls_total{country="PT",outcome="ok",provider="Banco de Portugal"} 5.0
bureau_calls_created{country="ES",outcome="ok",provider="Equifax ES"} 1.7e+09
bureau_circuit_state{country="ES",provider="Equifax ES"} 0.0
"""
    after = before.replace("} 10.0", "} 40.0") + (
        'bureau_calls_total{country="IT",outcome="timeout",provider="CRIF"} 2.0\n'
        'bureau_circuit_state{country="IT",provider="CRIF"} 2.0\n'
    )
    scoring = 'jetstream_messages_handled_total{consumer="scoring-jobs",outcome="ack"} %d\n'

    health = pipeline_health(
        {"bureau-gateway": parse(before), "scoring": parse(scoring % 3)},
        {"bureau-gateway": parse(after), "scoring": parse(scoring % 33)},
    )

    assert health.bureau_attempts == {"ok": 30, "timeout": 2}
    assert health.circuits_not_closed == 1
    assert health.job_settlements == {"ack": 30}
    assert health.problems == ["2 bureau timeout", "1 circuit(s) not closed"]


def test_requests_never_use_a_sandbox_identity() -> None:
    source = RequestSource(["ES"], seed=7, avoid=[("ES", "12345678Z")])

    assert ("ES", "70000001F") in SANDBOX_DOCUMENTS
    assert "12345678Z" in source._seen["ES"]  # taken as sent already


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
            "--decision-rate",
            "20",
            "--saturation-concurrency",
            "2",
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
    at_rate, saturation = document["decision_phases"]
    assert (at_rate["kind"], saturation["kind"]) == ("rate", "saturation")
    assert at_rate["created"] == 30  # 20/s for the warm-up and the second measured
    assert saturation["created"] > 0
    assert saturation["decisions_per_s"] > 0
    for phase in (at_rate, saturation):
        assert phase["errors_total"] == phase["undecided"] == phase["fallback_reports"] == 0
        assert phase["decided"] == phase["created"]
        assert phase["problems"] == []
        assert phase["health"]["bureau_attempts"] == {"ok": phase["created"]}
    assert at_rate["latency"]["p50_ms"] > 0
    assert document["settings"]["bureau_simulation"]["BUREAU_LATENCY_SECONDS"] == "0.015"
    assert "submit-to-decision p50 < 50 ms at 200/s" in result.stdout
    assert not any(running(pid) for pid in document["pids"].values())  # everything stopped
