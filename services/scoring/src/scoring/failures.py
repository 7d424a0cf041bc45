"""What happens to a job that cannot be done: it is dead-lettered with its cause, its application goes
to UNDER_REVIEW with reason SCORING_FAILED (never left in VALIDATING), and an operator can replay it once
the cause is fixed."""

import contextlib
import logging
from dataclasses import dataclass

import grpc

from globalcredit.intake.v1 import events_pb2
from scoring import metrics
from scoring.dead_letters import DeadLetters
from scoring.engine import Decision
from scoring.jobs import InvalidFigures, Scorer
from scoring.upstream import Intake, JobOver, UpstreamFailure
from svckit.pull_worker import PermanentError

log = logging.getLogger(__name__)

# Intake's answers to RecordScoringFailure that mean the job names no application it has: there is nothing
# to send to review, but the job must still be dead-lettered (retrying cannot make the application appear).
_NO_SUCH_APPLICATION = frozenset({grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT})


def failure_code(error: BaseException) -> str:
    """A stable code for why a job failed, for the dead letter and the application's status reason."""
    if isinstance(error, UpstreamFailure):
        return error.reason
    if isinstance(error, InvalidFigures):
        return "INVALID_FIGURES"
    if isinstance(error, PermanentError):
        return "PERMANENT_FAILURE"
    return "MAX_DELIVERIES_EXCEEDED"


@dataclass(frozen=True)
class ReplayResult:
    decision: Decision | None
    """None when the application had moved on: nothing was left to decide."""


class JobFailedAgain(Exception):
    def __init__(self, dead_letter_id: int) -> None:
        super().__init__(f"the job failed again; dead letter {dead_letter_id}")
        self.dead_letter_id = dead_letter_id


class JobFailures:
    def __init__(self, intake: Intake, dead_letters: DeadLetters, scorer: Scorer) -> None:
        self._intake = intake
        self._dead_letters = dead_letters
        self._scorer = scorer

    async def give_up(
        self, job: events_pb2.ApplicationSubmitted, error: BaseException, *, deliveries: int, origin: str
    ) -> int:
        """Sends the application to review and dead-letters the job; returns the dead letter's id.

        Both steps are idempotent (by job id, and by `origin` as the dead letter's message id), so a give-up
        interrupted by an outage can simply be done again.
        """
        code = failure_code(error)
        if job.name and job.event_id:
            # JobOver: the application moved on (decided, cancelled); the dead letter still says why.
            with contextlib.suppress(JobOver):
                await self._record_failure(job, code)
        dead_letter_id = await self._dead_letters.add(
            job,
            reason=code,
            error=f"{type(error).__name__}: {error}"[:1000],
            deliveries=deliveries,
            message_id=f"{job.event_id}/{origin}",
        )
        metrics.DEAD_LETTERS.labels(code).inc()
        metrics.JOBS.labels("dead_lettered").inc()
        log.error(
            "scoring job dead-lettered",
            extra={
                "application": job.name,
                "job_id": job.event_id,
                "reason": code,
                "dead_letter": dead_letter_id,
            },
        )
        return dead_letter_id

    async def _record_failure(self, job: events_pb2.ApplicationSubmitted, code: str) -> None:
        try:
            await self._intake.record_failure(job.name, job.event_id, code)
        except UpstreamFailure as refusal:
            # Any other refusal (scoring's own token, say) is raised: the give-up is tried again later
            # rather than dead-lettering a job whose application may still be in VALIDATING.
            if refusal.code not in _NO_SUCH_APPLICATION:
                raise
            log.warning(
                "intake knows no application of the job; dead-lettering it without a review",
                extra={"application": job.name, "job_id": job.event_id, "reason": refusal.reason},
            )

    async def replay(self, dead_letter_id: int) -> ReplayResult | None:
        """Runs a dead-lettered job again; None when there is no such dead letter. A job that fails again is
        dead-lettered anew (`JobFailedAgain`); either way the old dead letter is removed."""
        stored = await self._dead_letters.get(dead_letter_id)
        if stored is None:
            return None
        job = stored.record.job
        try:
            decision = await self._scorer.run(job)
        except Exception as error:
            new_id = await self.give_up(job, error, deliveries=1, origin=f"replay-{dead_letter_id}")
            await self._dead_letters.remove(dead_letter_id)
            raise JobFailedAgain(new_id) from error
        await self._dead_letters.remove(dead_letter_id)
        return ReplayResult(decision)
