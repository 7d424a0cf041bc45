"""Jobs that cannot be done: a permanent failure is dead-lettered at once, a transient one once its
deliveries are used up; either way the application goes to UNDER_REVIEW with reason SCORING_FAILED, never
left in VALIDATING, and an operator lists the dead letters and replays them once the cause is fixed."""

import contextlib
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from nats.js.errors import NotFoundError
from scoring_harness import (
    AUDIENCE,
    ISSUER,
    Stack,
    StartScoring,
    eventually,
    running_bureau,
)

from bureau_gateway.sandbox import SANDBOX_IDENTITIES, Scenario
from globalcredit.intake.v1 import application_pb2, events_pb2
from globalcredit.scoring.v1 import scoring_service_pb2
from globalcredit.type.v1 import decision_pb2
from scoring.app import ScoringApp
from scoring.dead_letters import STREAM
from scoring.worker import JOBS_SUBJECT
from svckit.auth import TokenIssuer
from svckit.errors import error_details
from svckit.jetstream import publish
from svckit.local.ports import free_port

S = application_pb2
LIST = scoring_service_pb2.ListDeadLettersRequest


def _approve_document(country: str) -> str:
    return next(
        identity.document
        for identity in SANDBOX_IDENTITIES
        if identity.country.value == country and identity.scenario is Scenario.APPROVE
    )


@pytest.fixture(autouse=True)
async def no_dead_letters(stack: Stack) -> None:
    """Each test starts with no dead letters (the stream stays; scoring declared it)."""
    with contextlib.suppress(NotFoundError):  # not declared yet: nothing to purge
        await stack.nats.jetstream().purge_stream(STREAM)


@pytest.fixture
async def bureau_refusing_scoring() -> AsyncIterator[str]:
    """A bureau-gateway that trusts another issuer's keys: it refuses scoring's token (UNAUTHENTICATED),
    which no retry can cure. Its address."""
    stranger = TokenIssuer.generate(ISSUER, AUDIENCE, kid="stranger")
    async with running_bureau(stranger) as bureau:
        yield f"127.0.0.1:{bureau.server.port}"


async def _dead_letters(stack: Stack, app: ScoringApp) -> list[scoring_service_pb2.DeadLetter]:
    response = await stack.scoring_client(app, "admin").ListDeadLetters(LIST())
    return list(response.dead_letters)


async def test_a_permanent_failure_is_dead_lettered_and_a_replay_after_the_fix_decides_it(
    stack: Stack, start_scoring: StartScoring, bureau_refusing_scoring: str
) -> None:
    broken = await start_scoring(bureau_address=bureau_refusing_scoring)
    created = await stack.create("ES", document=_approve_document("ES"))

    reviewed = (await stack.wait_decided([created.name]))[created.name]

    assert reviewed.status == S.APPLICATION_STATUS_UNDER_REVIEW
    assert reviewed.status_reason == "SCORING_FAILED: TOKEN_INVALID"
    assert not reviewed.HasField("decision")
    dead_letters = await eventually(lambda: _dead_letters(stack, broken), what="a dead letter")
    assert len(dead_letters) == 1
    dead_letter = dead_letters[0]
    assert dead_letter.name == created.name
    assert dead_letter.job_id
    assert dead_letter.reason == "TOKEN_INVALID"
    assert "UNAUTHENTICATED" in dead_letter.error
    # Permanent: given up on the first delivery, without retries.
    assert dead_letter.deliveries == 1
    assert dead_letter.HasField("fail_time")
    assert (await stack.decision_rows([created.name]))[created.name] == []

    # The fix: a scoring wired to the real bureau. The operator replays the job through it.
    await stack.stop_scoring(broken)
    fixed = await start_scoring()
    admin = stack.scoring_client(fixed, "admin")
    await admin.ReplayDeadLetter(scoring_service_pb2.ReplayDeadLetterRequest(id=dead_letter.id))

    decided = await stack.get(created.name)
    assert decided.status == S.APPLICATION_STATUS_APPROVED
    assert decided.decision.outcome == decision_pb2.DECISION_OUTCOME_APPROVE
    assert (await stack.decision_rows([created.name]))[created.name] == [dead_letter.job_id]
    trail = [change[:2] for change in (await stack.status_changes([created.name]))[created.name]]
    assert trail == [
        ("PENDING", "VALIDATING"),
        ("VALIDATING", "UNDER_REVIEW"),
        ("UNDER_REVIEW", "VALIDATING"),
        ("VALIDATING", "APPROVED"),
    ]
    assert await _dead_letters(stack, fixed) == []
    with pytest.raises(grpc.aio.AioRpcError) as replayed_again:
        await admin.ReplayDeadLetter(scoring_service_pb2.ReplayDeadLetterRequest(id=dead_letter.id))
    details = error_details(replayed_again.value)
    assert (details.code, details.reason) == (grpc.StatusCode.NOT_FOUND, "DEAD_LETTER_NOT_FOUND")


async def test_a_job_failing_transiently_on_every_delivery_is_dead_lettered_after_the_last(
    stack: Stack, start_scoring: StartScoring
) -> None:
    # Nothing listens there: every call to the bureau fails UNAVAILABLE, which is worth a retry.
    app = await start_scoring(bureau_address=f"127.0.0.1:{free_port()}", max_deliveries=2)
    created = await stack.create("IT")

    reviewed = (await stack.wait_decided([created.name]))[created.name]

    assert reviewed.status == S.APPLICATION_STATUS_UNDER_REVIEW
    assert reviewed.status_reason == "SCORING_FAILED: MAX_DELIVERIES_EXCEEDED"
    dead_letters = await eventually(lambda: _dead_letters(stack, app), what="a dead letter")
    assert [(d.name, d.reason, d.deliveries) for d in dead_letters] == [
        (created.name, "MAX_DELIVERIES_EXCEEDED", 2)
    ]
    assert "UNAVAILABLE" in dead_letters[0].error
    assert (await stack.decision_rows([created.name]))[created.name] == []
    trail = [change[:2] for change in (await stack.status_changes([created.name]))[created.name]]
    assert trail == [("PENDING", "VALIDATING"), ("VALIDATING", "UNDER_REVIEW")]


async def test_jobs_naming_no_application_intake_knows_are_dead_lettered_at_once(
    stack: Stack, start_scoring: StartScoring
) -> None:
    app = await start_scoring()
    admin = stack.scoring_client(app, "admin")
    js = stack.nats.jetstream()
    stray = events_pb2.ApplicationSubmitted(event_id=str(uuid.uuid4()), name=f"applications/{uuid.uuid4()}")
    await publish(js, JOBS_SUBJECT, stray.SerializeToString(), msg_id=stray.event_id)
    # Two jobs that are not even events: they have no event id to tell them apart by.
    for _ in range(2):
        await publish(js, JOBS_SUBJECT, b"\xff not a protobuf", msg_id=str(uuid.uuid4()))

    dead_letters = await eventually(
        lambda: _dead_letters_if(stack, app, count=3), within=10.0, what="three dead letters"
    )

    assert sorted((d.reason, d.name, d.deliveries) for d in dead_letters) == [
        ("APPLICATION_NOT_FOUND", stray.name, 1),
        ("PERMANENT_FAILURE", "", 1),
        ("PERMANENT_FAILURE", "", 1),
    ]
    consumer = await stack.consumer_info()
    assert consumer.num_ack_pending == 0
    assert consumer.num_pending == 0
    # Pages of two: the second page holds the third, and says there is no other.
    first = await admin.ListDeadLetters(LIST(page_size=2))
    assert len(first.dead_letters) == 2
    assert first.next_page_token
    second = await admin.ListDeadLetters(LIST(page_size=2, page_token=first.next_page_token))
    assert [d.id for d in [*first.dead_letters, *second.dead_letters]] == [d.id for d in dead_letters]
    assert second.next_page_token == ""


async def _dead_letters_if(
    stack: Stack, app: ScoringApp, *, count: int
) -> list[scoring_service_pb2.DeadLetter]:
    found = await _dead_letters(stack, app)
    return found if len(found) >= count else []
