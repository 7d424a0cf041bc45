"""A worker that dies mid-job loses nothing, and a worker that is stopped finishes its jobs first."""

import signal
from pathlib import Path
from typing import Any

import pytest
from scoring_harness import DECIDED, Stack, StartScoring

# Long enough that jobs are surely in flight when the test acts, short enough to keep the tests quick.
SLOW_BUREAU_SECONDS = 3.0
JOBS = 5


@pytest.fixture(scope="module")
def bureau_overrides() -> dict[str, Any]:
    # A slow bureau must stay merely slow: each attempt may take a few seconds before it is cut.
    return {"attempt_timeout_seconds": 4.5, "call_timeout_seconds": 4.8}


async def test_killing_a_worker_mid_job_loses_no_application(
    stack: Stack, start_scoring: StartScoring, tmp_path: Path
) -> None:
    await stack.slow_bureau("MX", SLOW_BUREAU_SECONDS)
    worker = stack.scoring_process(tmp_path / "scoring.log", subject="scoring-killed", ack_wait_seconds=5.0)
    worker.start()
    try:
        names = await stack.create_many(["MX"] * JOBS)
        # The process took every job (each waits on the bureau now) and has decided none yet.
        await stack.wait_statuses(names, {"VALIDATING"}, within=20.0)
        assert worker.running, "the scoring process died by itself"

        assert worker.kill() == -signal.SIGKILL
    finally:
        worker.kill()

    assert set((await stack.statuses(names)).values()) == {"VALIDATING"}
    assert all(job_ids == [] for job_ids in (await stack.decision_rows(names)).values())

    # Another replica takes the jobs over once their ack wait has passed.
    await stack.clear_fault("MX")
    await start_scoring(subject="scoring-survivor", ack_wait_seconds=1.0)
    statuses = await stack.wait_statuses(names, DECIDED, within=20.0)

    assert set(statuses.values()) <= DECIDED
    decisions = await stack.decision_rows(names)
    assert all(len(job_ids) == 1 for job_ids in decisions.values()), decisions
    # The killed process took each job; the survivor decided it, resuming the same job.
    for trail in (await stack.status_changes(names)).values():
        assert len(trail) == 2, trail
        (started_from, _, starter, _), (decided_from, _, decider, _) = trail
        assert (started_from, starter) == ("PENDING", "scoring-killed")
        assert (decided_from, decider) == ("VALIDATING", "scoring-survivor")


async def test_stopping_a_worker_lets_its_jobs_in_flight_finish(
    stack: Stack, start_scoring: StartScoring
) -> None:
    await stack.slow_bureau("CO", 1.5)
    try:
        app = await start_scoring()
        names = await stack.create_many(["CO"] * JOBS)
        await stack.wait_statuses(names, {"VALIDATING"}, within=15.0)

        await app.stop_worker()

        # Nothing to wait for: the stop returned only once the jobs in flight were done.
        statuses = await stack.statuses(names)
        assert set(statuses.values()) <= DECIDED, statuses
        decisions = await stack.decision_rows(names)
        assert all(len(job_ids) == 1 for job_ids in decisions.values()), decisions
        consumer = await stack.consumer_info()
        assert consumer.num_ack_pending == 0
    finally:
        await stack.clear_fault("CO")
