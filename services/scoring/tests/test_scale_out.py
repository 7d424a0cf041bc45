"""Two scoring replicas share the one durable consumer: every job is decided exactly once."""

import itertools

from scoring_harness import DECIDED, Stack, StartScoring

COUNTRIES = ("ES", "PT", "IT", "MX", "CO", "BR")
APPLICATIONS = 200


async def test_two_workers_decide_each_of_200_applications_exactly_once(
    stack: Stack, start_scoring: StartScoring
) -> None:
    # A few jobs at a time each, so that both replicas are kept busy and both take a share.
    await start_scoring(subject="scoring-1", worker_concurrency=4)
    await start_scoring(subject="scoring-2", worker_concurrency=4)
    await stack.wait_for_pullers(2)

    names = await stack.create_many(itertools.islice(itertools.cycle(COUNTRIES), APPLICATIONS))
    assert len(set(names)) == APPLICATIONS

    statuses = await stack.wait_statuses(names, DECIDED, within=45.0)
    assert set(statuses.values()) <= DECIDED

    decisions = await stack.decision_rows(names)
    assert {name: len(job_ids) for name, job_ids in decisions.items() if len(job_ids) != 1} == {}
    job_ids = [job_id for ids in decisions.values() for job_id in ids]
    assert len(set(job_ids)) == APPLICATIONS

    changes = await stack.status_changes(names)
    deciders: set[str] = set()
    for name, trail in changes.items():
        decided = [change for change in trail if change[0] == "VALIDATING"]
        assert len(decided) == 1, (name, trail)
        assert [change[:2] for change in trail] == [("PENDING", "VALIDATING"), decided[0][:2]], (name, trail)
        assert decided[0][1] == statuses[name]
        deciders.add(decided[0][2])
    # The audit trail names the replica that decided: both did some of the work.
    assert deciders == {"scoring-1", "scoring-2"}
