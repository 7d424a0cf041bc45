"""Refusals: malformed and expired resume tokens, malformed filters, and who may watch at all."""

from datetime import timedelta

import grpc
import nats
import pytest
from notifier_watchers import create_and_drive

from globalcredit.intake.v1 import application_pb2
from notifier import tokens
from svckit.errors import ErrorDetails
from svckit.testing.polling import eventually

DOMAIN = "notifier.globalcredit.com"


async def refusal(notifier, **arguments) -> ErrorDetails:
    return await notifier.watch(**arguments).wait_for_end()


@pytest.mark.parametrize(
    "token",
    [
        "not a token",
        "djE6",  # v1: without a sequence
        "djI6NQ",  # v2:5
        "djE6LTE",  # v1:-1
        "djE6MDA3",  # v1:007
        "djE6NQ==" + "A" * 60,  # too long
    ],
)
async def test_a_malformed_resume_token_is_invalid_argument(notifier, token):
    error = await refusal(notifier, resume_token=token)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_RESUME_TOKEN"
    assert error.domain == DOMAIN
    assert [violation.field for violation in error.violations] == ["resume_token"]


async def test_a_resume_token_whose_events_are_no_longer_retained_is_out_of_range(
    notifier, intake, nats_server
):
    watcher = notifier.watch("analyst")
    await notifier.live_watchers(1)
    name = await create_and_drive(intake.workflow(), "completed")
    await eventually(lambda: len(watcher.of(name)) == 3)
    first, _, third = (tokens.decode(event.resume_token) for event in watcher.of(name))
    await watcher.close()

    # What retention does over days, a purge does now: everything before the third change goes.
    client = await nats.connect(nats_server.url)
    try:
        await client.jetstream().purge_stream("INTAKE", seq=third)
    finally:
        await client.close()

    expired = await refusal(notifier, resume_token=tokens.encode(first))
    assert expired.code == grpc.StatusCode.OUT_OF_RANGE
    assert expired.reason == "RESUME_TOKEN_EXPIRED"
    assert expired.domain == DOMAIN
    # The last token before the oldest retained event still resumes: nothing after it is gone.
    at_the_edge = notifier.watch("analyst", resume_token=tokens.encode(third - 1), name=name)
    await eventually(lambda: len(at_the_edge.events) == 1)
    assert at_the_edge.events[0].new_status == application_pb2.APPLICATION_STATUS_COMPLETED
    await at_the_edge.close()


async def test_a_resume_token_beyond_the_stream_is_out_of_range(notifier, nats_server):
    client = await nats.connect(nats_server.url)
    try:
        last = (await client.jetstream().stream_info("INTAKE")).state.last_seq
    finally:
        await client.close()
    error = await refusal(notifier, resume_token=tokens.encode(last + 1000))
    assert error.code == grpc.StatusCode.OUT_OF_RANGE
    assert error.reason == "RESUME_TOKEN_EXPIRED"


@pytest.mark.parametrize(
    "name", ["applications/not-a-uuid", "applications/", "orders/0190b2c4-7d8e-7f00-8000-000000000000", "x"]
)
async def test_a_malformed_name_is_invalid_argument(notifier, name):
    error = await refusal(notifier, name=name)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_NAME"
    assert [violation.field for violation in error.violations] == ["name"]


async def test_unknown_country_and_status_are_invalid_argument(notifier):
    error = await refusal(notifier, country=99, status=42)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_FILTER"
    assert sorted(violation.field for violation in error.violations) == ["country", "status"]


async def test_every_bad_field_is_reported_at_once(notifier):
    error = await refusal(notifier, name="nope", resume_token="nope!")
    assert error.reason == "INVALID_NAME"
    assert sorted(violation.field for violation in error.violations) == ["name", "resume_token"]


@pytest.mark.parametrize("roles", [("service",), ()])
async def test_callers_without_a_watching_role_are_refused(notifier, roles):
    error = await refusal(notifier, token=notifier.clients.token(*roles))
    assert error.code == grpc.StatusCode.PERMISSION_DENIED
    assert error.reason == "ROLE_NOT_ALLOWED"


async def test_a_call_without_a_token_is_unauthenticated(notifier):
    error = await refusal(notifier, token="")
    assert error.code == grpc.StatusCode.UNAUTHENTICATED
    assert error.reason == "TOKEN_MISSING"


async def test_an_expired_token_is_unauthenticated(notifier, issuer):
    token = issuer.mint("analyst-old", ["analyst"], ttl=timedelta(hours=-1))
    error = await refusal(notifier, token=token)
    assert error.code == grpc.StatusCode.UNAUTHENTICATED
    assert error.reason == "TOKEN_EXPIRED"


@pytest.mark.parametrize("roles", [("analyst",), ("senior_analyst",), ("admin",)])
async def test_analyst_roles_may_watch(notifier, roles):
    watcher = notifier.watch(*roles)
    await notifier.live_watchers(1)
    assert watcher.error is None
    await watcher.close()
