"""WatchApplications through the gateway over grpc-web, as the console watches: status changes arrive as
they happen, and the stream outlives Envoy's default route timeout (15 s)."""

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TypeAlias

import aiohttp
import pytest
from edge_stack import EdgeStack, approving_document
from grpc_web_client import GrpcWebClient, WatchStream

from globalcredit.intake.v1 import application_pb2, intake_service_pb2
from globalcredit.notifier.v1 import notifier_service_pb2
from samples.applications import create_request
from svckit.testing.polling import eventually

S = application_pb2
WATCH = "/globalcredit.notifier.v1.NotifierService/WatchApplications"
CREATE = "/globalcredit.intake.v1.IntakeService/CreateApplication"
# Longer than Envoy's default route timeout, which would end a stream at 15 s.
HELD_OPEN_SECONDS = 17.0

Events: TypeAlias = WatchStream[notifier_service_pb2.WatchApplicationsResponse]


@pytest.fixture
async def watch(
    grpc_web: GrpcWebClient, edge: EdgeStack, http: aiohttp.ClientSession
) -> AsyncIterator[Events]:
    """An analyst's watch of every application, registered with notifier for live events."""
    async with grpc_web.stream(
        WATCH,
        notifier_service_pb2.WatchApplicationsRequest(),
        notifier_service_pb2.WatchApplicationsResponse,
        token=edge.token("analyst"),
    ) as stream:
        assert stream.reply.http_status == 200
        await eventually(lambda: _live(edge, http, 1), what="the watch going live")
        yield stream
    # The next test starts from no watcher at all.
    await eventually(lambda: _live(edge, http, 0), what="the watch ending")


async def _live(edge: EdgeStack, http: aiohttp.ClientSession, count: int) -> bool:
    return await edge.live_watchers(http) == count


async def create(grpc_web: GrpcWebClient, edge: EdgeStack, country: str) -> str:
    reply = await grpc_web.unary(
        CREATE,
        create_request(country, document=approving_document(country)),
        intake_service_pb2.CreateApplicationResponse,
        token=edge.token("analyst"),
    )
    return reply.message.application.name


async def changes_of(stream: Events, name: str, count: int) -> list[tuple[int, int]]:
    """The next `count` status changes of application `name` (others' are skipped), as (old, new)."""
    changes: list[tuple[int, int]] = []
    async with asyncio.timeout(20):
        while len(changes) < count:
            received = await stream.next()
            assert received is not None, f"the watch ended: {stream.reply.trailers}"
            if received.event.name == name:
                changes.append((received.event.old_status, received.event.new_status))
    return changes


async def test_a_watch_through_grpc_web_sees_an_application_validated_and_approved(
    watch: Events, grpc_web: GrpcWebClient, edge: EdgeStack
) -> None:
    name = await create(grpc_web, edge, "ES")

    assert await changes_of(watch, name, 2) == [
        (S.APPLICATION_STATUS_PENDING, S.APPLICATION_STATUS_VALIDATING),
        (S.APPLICATION_STATUS_VALIDATING, S.APPLICATION_STATUS_APPROVED),
    ]
    assert watch.reply.headers["content-type"].startswith("application/grpc-web")


async def test_a_watch_stays_open_past_envoys_default_route_timeout(
    watch: Events, grpc_web: GrpcWebClient, edge: EdgeStack
) -> None:
    opened = time.monotonic()
    first = await create(grpc_web, edge, "BR")
    assert await changes_of(watch, first, 2)

    # Nothing to wait for here: the point is a quiet stream that lives longer than 15 s.
    await asyncio.sleep(max(0.0, HELD_OPEN_SECONDS - (time.monotonic() - opened)))
    second = await create(grpc_web, edge, "IT")

    assert await changes_of(watch, second, 2) == [
        (S.APPLICATION_STATUS_PENDING, S.APPLICATION_STATUS_VALIDATING),
        (S.APPLICATION_STATUS_VALIDATING, S.APPLICATION_STATUS_APPROVED),
    ]
    assert not watch.ended
    assert time.monotonic() - opened > HELD_OPEN_SECONDS
