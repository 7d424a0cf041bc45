"""The dead letters: scoring jobs given up for good, kept in their own JetStream stream where an operator
can list them and replay them (SPEC §12)."""

import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from globalcredit.intake.v1 import events_pb2 as intake_events_pb2
from globalcredit.scoring.v1 import events_pb2
from svckit.jetstream import ensure_stream, publish

STREAM = "SCORING_DEAD_LETTERS"
SUBJECT = "scoring.job.dead_lettered"
# Long enough for an operator to come back from a holiday.
MAX_AGE = timedelta(days=30)
# Covers a give-up whose bookkeeping is retried after an outage, so the job is dead-lettered once.
DUPLICATE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class StoredDeadLetter:
    """A dead letter and where it sits in the stream (its sequence is its id)."""

    sequence: int
    record: events_pb2.ScoringJobDeadLettered


class DeadLetters:
    def __init__(self, js: JetStreamContext) -> None:
        self._js = js

    async def ensure_stream(self) -> None:
        await ensure_stream(
            self._js, STREAM, [SUBJECT], sync_always=True, max_age=MAX_AGE, duplicate_window=DUPLICATE_WINDOW
        )

    async def add(
        self,
        job: intake_events_pb2.ApplicationSubmitted,
        *,
        reason: str,
        error: str,
        deliveries: int,
        message_id: str,
    ) -> int:
        """Stores a dead letter; returns its id (the stream sequence). Storing the same `message_id` again
        within the duplicate window stores nothing and returns the first one's id."""
        occur_time = Timestamp()
        occur_time.FromDatetime(datetime.now(UTC))
        record = events_pb2.ScoringJobDeadLettered(
            event_id=str(uuid.uuid4()),
            occur_time=occur_time,
            job=job,
            reason=reason,
            error=error,
            deliveries=deliveries,
        )
        ack = await publish(self._js, SUBJECT, record.SerializeToString(), msg_id=message_id)
        return int(ack.seq)

    async def page(self, *, after: int, limit: int) -> list[StoredDeadLetter]:
        """Up to `limit` dead letters with ids above `after`, oldest first."""
        found: list[StoredDeadLetter] = []
        sequence = after + 1
        while len(found) < limit:
            try:
                message = await self._js.get_msg(STREAM, seq=sequence, subject=SUBJECT, next=True)
            except NotFoundError:
                break
            record = events_pb2.ScoringJobDeadLettered.FromString(message.data or b"")
            found.append(StoredDeadLetter(int(message.seq or sequence), record))
            sequence = int(message.seq or sequence) + 1
        return found

    async def get(self, sequence: int) -> StoredDeadLetter | None:
        try:
            message = await self._js.get_msg(STREAM, seq=sequence)
        except NotFoundError:
            return None
        return StoredDeadLetter(sequence, events_pb2.ScoringJobDeadLettered.FromString(message.data or b""))

    async def remove(self, sequence: int) -> None:
        with contextlib.suppress(NotFoundError):  # already removed: replays are idempotent
            await self._js.delete_msg(STREAM, sequence)
