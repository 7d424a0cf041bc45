"""The job consumer: one durable pull consumer on `intake.application.submitted`, shared by every scoring
replica, so each job goes to one replica at a time. A job is acked only after intake has recorded its
decision; transient failures are nak'ed with backoff; a job that fails for good is given up."""

import asyncio
import logging

import nats.errors
from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from opentelemetry.trace import TracerProvider

from globalcredit.intake.v1 import events_pb2
from scoring.failures import JobFailures
from scoring.jobs import Scorer
from scoring.settings import ScoringSettings
from svckit.pull_worker import Backoff, PermanentError, PullWorker

log = logging.getLogger(__name__)

JOBS_STREAM = "INTAKE"
JOBS_SUBJECT = "intake.application.submitted"
DURABLE = "scoring-jobs"


def decode_job(message: Msg) -> events_pb2.ApplicationSubmitted:
    try:
        job = events_pb2.ApplicationSubmitted.FromString(message.data)
    except DecodeError as error:
        raise PermanentError("the job is not an ApplicationSubmitted event") from error
    if not job.name or not job.event_id:
        raise PermanentError("the job has no application name or event id")
    return job


class JobWorker:
    def __init__(
        self,
        js: JetStreamContext,
        scorer: Scorer,
        failures: JobFailures,
        settings: ScoringSettings,
        *,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self._js = js
        self._scorer = scorer
        self._failures = failures
        self._worker = PullWorker(
            js,
            stream=JOBS_STREAM,
            durable=DURABLE,
            filter_subject=JOBS_SUBJECT,
            handler=self._handle,
            concurrency=settings.worker_concurrency,
            ack_wait=settings.ack_wait,
            max_attempts=settings.max_deliveries,
            backoff=Backoff(initial=settings.retry_initial_seconds, maximum=settings.retry_max_seconds),
            on_dead_letter=self._give_up,
            tracer_provider=tracer_provider,
        )
        self._started = False

    async def start(self, *, stream_poll_seconds: float = 1.0) -> None:
        """Waits for intake's stream (intake declares it) and for JetStream to answer, then consumes until
        stopped."""
        while True:
            try:
                await self._js.stream_info(JOBS_STREAM)
                await self._worker.start()
                break
            except NotFoundError:
                log.info("waiting for the %s stream", JOBS_STREAM)
            except nats.errors.Error as error:
                # JetStream restarting or slow to answer: a worker that gave up here would leave the
                # replica serving RPCs while it consumes nothing.
                log.warning("could not bind the job consumer, trying again: %s", error)
            await asyncio.sleep(stream_poll_seconds)
        self._started = True

    async def wait(self) -> None:
        """Returns when the worker has stopped; raises if its loop crashed."""
        await self._worker.wait()

    async def stop(self) -> None:
        """Stops taking jobs and lets the ones in flight finish."""
        if self._started:
            await self._worker.stop()

    async def _handle(self, message: Msg) -> None:
        await self._scorer.run(decode_job(message))

    async def _give_up(self, message: Msg, error: BaseException) -> None:
        try:
            job = decode_job(message)
        except PermanentError:
            job = events_pb2.ApplicationSubmitted()
        # The stream sequence tells apart jobs without an event id (undecodable ones), which would
        # otherwise share one dead-letter message id and be de-duplicated into the first.
        await self._failures.give_up(
            job,
            error,
            deliveries=message.metadata.num_delivered or 1,
            origin=f"worker-{message.metadata.sequence.stream}",
        )
