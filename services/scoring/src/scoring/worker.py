"""The job consumer: one durable pull consumer on `intake.application.submitted`, shared by every scoring
replica, so each job goes to one replica at a time. A job is acked only after intake has recorded its
decision; transient failures are nak'ed with backoff; a job that fails for good is given up. The worker
also exports the consumer's lag (`scoring_jobs_pending`, `scoring_jobs_ack_pending`)."""

import asyncio
import logging

import nats.errors
from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from opentelemetry.trace import TracerProvider

from globalcredit.intake.v1 import events_pb2
from scoring import metrics
from scoring.failures import JobFailures
from scoring.jobs import Scorer
from scoring.settings import ScoringSettings
from svckit.pull_worker import Backoff, PermanentError, PullWorker

log = logging.getLogger(__name__)

JOBS_STREAM = "INTAKE"
JOBS_SUBJECT = "intake.application.submitted"
DURABLE = "scoring-jobs"
# One small JetStream API request per replica per period: cheap, and fine-grained enough for a 15 s scrape.
LAG_READ_SECONDS = 5.0


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
        lag_read_seconds: float = LAG_READ_SECONDS,
    ) -> None:
        self._js = js
        self._lag_read_seconds = lag_read_seconds
        self._lag_task: asyncio.Task[None] | None = None
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
        self._lag_task = asyncio.create_task(self._export_lag(), name="scoring-jobs-lag")

    async def wait(self) -> None:
        """Returns when the worker has stopped; raises if its loop crashed."""
        await self._worker.wait()

    async def stop(self) -> None:
        """Stops taking jobs and lets the ones in flight finish."""
        if self._lag_task is not None:
            self._lag_task.cancel()
            await asyncio.wait({self._lag_task})
        if self._started:
            await self._worker.stop()

    async def read_lag(self) -> None:
        """Reads the job consumer's lag from JetStream into the gauges; raises when JetStream does not
        answer (the gauges keep their last reading)."""
        info = await self._js.consumer_info(JOBS_STREAM, DURABLE, timeout=self._lag_read_seconds)
        metrics.JOBS_PENDING.set(info.num_pending or 0)
        metrics.JOBS_ACK_PENDING.set(info.num_ack_pending or 0)
        metrics.JOBS_LAG_READ.set_to_current_time()

    async def _export_lag(self) -> None:
        # Never ends by itself: a metric must not take the replica down, whatever JetStream does.
        failing = False
        while True:
            try:
                await self.read_lag()
            except (nats.errors.Error, OSError, TimeoutError) as error:
                # Reconnecting, or the consumer being recreated: worth one line per outage, not one per read.
                if not failing:
                    log.warning("could not read the job consumer's lag: %s", error)
                failing = True
            except Exception:
                if not failing:
                    log.exception("could not read the job consumer's lag")
                failing = True
            else:
                if failing:
                    log.info("reading the job consumer's lag again")
                failing = False
            await asyncio.sleep(self._lag_read_seconds)

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
