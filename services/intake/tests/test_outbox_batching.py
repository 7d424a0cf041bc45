"""The relay's batches hold at most one event per application, so concurrent publishing never reorders
an application's events."""

import uuid
from datetime import UTC, datetime

from intake.outbox import one_per_application
from intake.records import OutboxEvent


def event(number: int, application: uuid.UUID) -> OutboxEvent:
    return OutboxEvent(
        id=number,
        event_id=uuid.uuid4(),
        application_id=application,
        subject="intake.application.status_changed",
        payload={},
        created_at=datetime.now(UTC),
    )


def test_a_batch_stops_before_an_applications_second_event():
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    events = [event(1, a), event(2, b), event(3, a), event(4, c)]
    assert [e.id for e in one_per_application(events)] == [1, 2]


def test_events_of_distinct_applications_form_one_batch():
    events = [event(n, uuid.uuid4()) for n in range(1, 101)]
    assert one_per_application(events) == events


def test_no_events_make_an_empty_batch():
    assert one_per_application([]) == []
