"""Shutdown ends open watches with UNAVAILABLE (clients resume elsewhere), health says NOT_SERVING while
draining, and a NATS restart loses no event for the watchers that stay connected."""

import asyncio

import grpc
from grpc_health.v1 import health_pb2
from notifier_watchers import PATHS, create_and_drive, transitions

from svckit.local.nats import LocalNats
from svckit.testing.polling import eventually


async def test_shutdown_ends_open_watches_with_unavailable_after_the_drain(start_notifier, intake):
    async with start_notifier() as notifier:
        watchers = [notifier.watch("analyst"), notifier.watch("partner", partner_id="partner-gamma")]
        await notifier.live_watchers(2)
        name = await create_and_drive(intake.workflow(), "withdrawn")
        await eventually(lambda: len(watchers[0].of(name)) == 1)
        resuming = notifier.watch("analyst", resume_token=watchers[0].last_token)
        await notifier.live_watchers(3)

        stopping = asyncio.create_task(notifier.app.server.stop(5.0, drain=1.0))
        # While draining, health turns away new traffic and the open watches keep flowing.
        await eventually(_not_serving(notifier), within=5.0)
        assert not any(watcher.ended.is_set() for watcher in (*watchers, resuming))

        for watcher in (*watchers, resuming):
            error = await watcher.wait_for_end()
            assert error.code == grpc.StatusCode.UNAVAILABLE
            assert error.reason == "SHUTTING_DOWN"
            assert error.domain == "notifier.globalcredit.com"
        await stopping


def _not_serving(notifier):
    async def check() -> bool:
        return await notifier.health() == health_pb2.HealthCheckResponse.NOT_SERVING

    return check


async def test_watchers_miss_nothing_across_a_nats_restart(notifier, intake, nats_server):
    workflow = intake.workflow()
    watcher = notifier.watch("analyst")
    await notifier.live_watchers(1)
    before = await create_and_drive(workflow, "rejected")
    await eventually(lambda: len(watcher.of(before)) == 2)

    await asyncio.to_thread(nats_server.restart)
    # Intake's relay keeps what it could not publish; the feed's consumer is recreated after the last
    # event it received once its heartbeats stop.
    after = await asyncio.gather(*(create_and_drive(workflow, "completed") for _ in range(3)))

    await eventually(lambda: len(watcher.of(*after)) == 9, within=30.0)
    assert transitions(watcher.events, before) == PATHS["rejected"]
    for name in after:
        assert transitions(watcher.events, name) == PATHS["completed"]
    assert len({event.event_id for event in watcher.events}) == len(watcher.events)
    assert watcher.error is None
    await watcher.close()


async def test_a_notifier_started_before_the_stream_exists_delivers_once_it_does(
    notifier_on, intake_on, tmp_path
):
    # As in the dev stack: intake creates its stream only when it first publishes.
    server = LocalNats(tmp_path / "store", name="notifier-first", sync_always=False)
    await asyncio.to_thread(server.start)
    try:
        async with notifier_on(server.url, wait_ready=False) as notifier:
            watcher = notifier.watch("analyst")
            async with intake_on(server.url) as intake:
                name = await create_and_drive(intake.workflow(), "completed")
                await eventually(lambda: len(watcher.of(name)) == 3, within=30.0)
                assert transitions(watcher.events, name) == PATHS["completed"]
                await watcher.close()
    finally:
        await asyncio.to_thread(server.stop)
