"""The job consumer's lag in scoring's metrics: jobs no replica has taken yet, and none once decided."""

from prometheus_client import REGISTRY
from scoring_harness import Stack, StartScoring

from scoring.app import ScoringApp
from svckit.testing.polling import eventually


async def _lag_read_by(app: ScoringApp) -> tuple[float | None, float | None]:
    await app.worker.read_lag()
    return (
        REGISTRY.get_sample_value("scoring_jobs_pending"),
        REGISTRY.get_sample_value("scoring_jobs_ack_pending"),
    )


async def test_the_job_lag_counts_jobs_waiting_for_a_replica_until_they_are_decided(
    stack: Stack, start_scoring: StartScoring
) -> None:
    idle = await start_scoring()
    await stack.wait_for_pullers(1)
    # The consumer stays, and nothing takes its jobs any more.
    await idle.stop_worker()
    names = await stack.create_many(["ES", "PT", "IT"])

    async def three_waiting() -> bool:
        return await _lag_read_by(idle) == (3.0, 0.0)

    await eventually(three_waiting, what="three jobs waiting for a replica")
    read_at = REGISTRY.get_sample_value("scoring_jobs_lag_read_timestamp_seconds")
    assert read_at is not None
    assert read_at > 0

    working = await start_scoring()
    await stack.wait_decided(names)

    async def none_left() -> bool:
        return await _lag_read_by(working) == (0.0, 0.0)

    await eventually(none_left, what="no job left once all are decided")
