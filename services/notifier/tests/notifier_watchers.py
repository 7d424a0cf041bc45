"""Test helpers for notifier: a watcher that collects a WatchApplications stream in the background, and
the status paths applications are driven along (with the changes each path produces)."""

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import grpc
from intake_workflow import Workflow

from globalcredit.intake.v1 import application_pb2, intake_service_pb2
from globalcredit.notifier.v1 import notifier_service_pb2
from globalcredit.type.v1 import decision_pb2
from svckit.errors import ErrorDetails, error_details

S = application_pb2
Event = notifier_service_pb2.ApplicationEvent
Transition = tuple[int, int]

# Each path an application can be driven along, and the status changes it makes, in order.
PATHS: dict[str, list[Transition]] = {
    "completed": [
        (S.APPLICATION_STATUS_PENDING, S.APPLICATION_STATUS_VALIDATING),
        (S.APPLICATION_STATUS_VALIDATING, S.APPLICATION_STATUS_APPROVED),
        (S.APPLICATION_STATUS_APPROVED, S.APPLICATION_STATUS_COMPLETED),
    ],
    "reviewed_then_cancelled": [
        (S.APPLICATION_STATUS_PENDING, S.APPLICATION_STATUS_VALIDATING),
        (S.APPLICATION_STATUS_VALIDATING, S.APPLICATION_STATUS_UNDER_REVIEW),
        (S.APPLICATION_STATUS_UNDER_REVIEW, S.APPLICATION_STATUS_APPROVED),
        (S.APPLICATION_STATUS_APPROVED, S.APPLICATION_STATUS_CANCELLED),
    ],
    "rejected": [
        (S.APPLICATION_STATUS_PENDING, S.APPLICATION_STATUS_VALIDATING),
        (S.APPLICATION_STATUS_VALIDATING, S.APPLICATION_STATUS_REJECTED),
    ],
    "withdrawn": [(S.APPLICATION_STATUS_PENDING, S.APPLICATION_STATUS_CANCELLED)],
}


async def drive(workflow: Workflow, application: application_pb2.Application, path: str) -> None:
    """Move a new (PENDING) application along `path`, one RPC per change."""
    name = application.name
    if path == "withdrawn":
        await workflow.cancel(application)
        return
    job_id = str(uuid.uuid4())
    await workflow.start(name, job_id)
    if path == "completed":
        await workflow.decide(name, job_id, decision_pb2.DECISION_OUTCOME_APPROVE)
        await workflow.confirm(name, verified=True, disbursed=True)
    elif path == "rejected":
        await workflow.decide(name, job_id, decision_pb2.DECISION_OUTCOME_REJECT)
    elif path == "reviewed_then_cancelled":
        reviewed = await workflow.decide(name, job_id, decision_pb2.DECISION_OUTCOME_REVIEW)
        approved = await workflow.analyst.UpdateApplicationStatus(
            intake_service_pb2.UpdateApplicationStatusRequest(
                name=name,
                status=S.APPLICATION_STATUS_APPROVED,
                reason="income documents checked",
                etag=reviewed.etag,
            )
        )
        await workflow.cancel(approved.application)
    else:
        raise ValueError(f"unknown path {path!r}")


async def create_and_drive(workflow: Workflow, path: str, country: str = "ES") -> str:
    application = await workflow.create(country)
    await drive(workflow, application, path)
    return application.name


def transitions(events: list[Event], name: str) -> list[Transition]:
    return [(event.old_status, event.new_status) for event in events if event.name == name]


Condition = Callable[[], object | Awaitable[object]]


@dataclass
class Watcher:
    """A WatchApplications call read in the background: `events` grows as they arrive; `error` is how the
    stream ended (None while open)."""

    call: grpc.aio.UnaryStreamCall[
        notifier_service_pb2.WatchApplicationsRequest, notifier_service_pb2.WatchApplicationsResponse
    ]
    events: list[Event] = field(default_factory=list)
    error: ErrorDetails | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def start(self) -> "Watcher":
        self._task = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        try:
            async for response in self.call:
                self.events.append(response.event)
        except grpc.aio.AioRpcError as failure:
            self.error = error_details(failure)
        finally:
            self.ended.set()

    def of(self, *names: str) -> list[Event]:
        return [event for event in self.events if event.name in names]

    async def wait_for_end(self, within: float = 15.0) -> ErrorDetails:
        await asyncio.wait_for(self.ended.wait(), within)
        assert self.error is not None, "the stream ended without an error status"
        return self.error

    async def close(self) -> None:
        self.call.cancel()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def last_token(self) -> str:
        return self.events[-1].resume_token
