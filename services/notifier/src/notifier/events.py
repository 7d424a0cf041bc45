"""The events notifier consumes: intake's `ApplicationStatusChanged`, decoded once per stream message into
what filters look at and the response every matching watcher is sent."""

from dataclasses import dataclass

from google.protobuf.message import DecodeError

from globalcredit.intake.v1 import events_pb2
from globalcredit.notifier.v1 import notifier_service_pb2
from notifier import tokens


class UndecodableEvent(ValueError):
    """A stream message that is not an `ApplicationStatusChanged` we can use."""


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One status change, as stored at stream sequence `sequence`.

    `response` is built once and shared by every watcher it goes to: with thousands of watchers, building
    it per watcher would cost more than the rest of the fan-out.
    """

    sequence: int
    event_id: str
    name: str
    country: int  # globalcredit.type.v1.Country
    new_status: int  # globalcredit.intake.v1.ApplicationStatus
    partner_id: str  # empty for applications of the lender's own analysts
    response: notifier_service_pb2.WatchApplicationsResponse


def decode(sequence: int, payload: bytes) -> StatusChange:
    """The status change in a stream message's payload (a serialized `ApplicationStatusChanged`)."""
    try:
        event = events_pb2.ApplicationStatusChanged.FromString(payload)
    except DecodeError as error:
        raise UndecodableEvent(f"not an ApplicationStatusChanged: {error}") from None
    if not event.event_id or not event.name:
        raise UndecodableEvent("an ApplicationStatusChanged without event_id or name")
    # Partner and decision outcome stay behind: watchers get only the contract's fields (no PII exists
    # in the event, and nothing else is needed to render a change).
    response = notifier_service_pb2.WatchApplicationsResponse(
        event=notifier_service_pb2.ApplicationEvent(
            event_id=event.event_id,
            resume_token=tokens.encode(sequence),
            name=event.name,
            country=event.country,
            old_status=event.old_status,
            new_status=event.new_status,
            risk_score=event.risk_score,
            occur_time=event.occur_time if event.HasField("occur_time") else None,
        )
    )
    return StatusChange(
        sequence=sequence,
        event_id=event.event_id,
        name=event.name,
        country=event.country,
        new_status=event.new_status,
        partner_id=event.partner_id,
        response=response,
    )
