"""A watcher receives status changes as they happen, with the contract's fields and a usable token."""

import uuid

from notifier_watchers import transitions

from globalcredit.intake.v1 import application_pb2
from globalcredit.type.v1 import country_pb2, decision_pb2
from notifier import tokens
from svckit.testing.polling import eventually

S = application_pb2


async def test_a_watcher_receives_status_changes_as_they_happen(notifier, intake):
    watcher = notifier.watch("analyst")
    await notifier.live_watchers(1)
    workflow = intake.workflow()

    application = await workflow.create("ES")
    job_id = str(uuid.uuid4())
    await workflow.start(application.name, job_id)
    await eventually(lambda: len(watcher.of(application.name)) == 1)
    await workflow.decide(application.name, job_id, decision_pb2.DECISION_OUTCOME_APPROVE)
    await eventually(lambda: len(watcher.of(application.name)) == 2)

    validating, approved = watcher.of(application.name)
    assert transitions([validating, approved], application.name) == [
        (S.APPLICATION_STATUS_PENDING, S.APPLICATION_STATUS_VALIDATING),
        (S.APPLICATION_STATUS_VALIDATING, S.APPLICATION_STATUS_APPROVED),
    ]
    for event in (validating, approved):
        assert uuid.UUID(event.event_id)
        assert event.country == country_pb2.COUNTRY_ES
        assert event.HasField("occur_time")
    assert validating.event_id != approved.event_id
    assert validating.risk_score == ""
    assert approved.risk_score == "42.00"
    assert tokens.decode(validating.resume_token) < tokens.decode(approved.resume_token)
    assert approved.occur_time.ToDatetime() >= validating.occur_time.ToDatetime()

    # The first event's token resumes right after it: the second event, and nothing before.
    resumed = notifier.watch("analyst", resume_token=validating.resume_token, name=application.name)
    await eventually(lambda: len(resumed.events) == 1)
    assert resumed.events[0].event_id == approved.event_id
    await watcher.close()
    await resumed.close()
