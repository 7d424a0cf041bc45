"""Resuming with the last resume token: nothing missed, nothing twice, including while changes keep coming
(the switch-over to live), whether the missed events come from the hub's memory or from JetStream."""

import asyncio
import contextlib
import itertools

import pytest
from notifier_watchers import PATHS, Watcher, create_and_drive, transitions
from prometheus_client import REGISTRY

from globalcredit.type.v1 import country_pb2
from svckit.testing.polling import eventually


@pytest.fixture(params=["memory", "jetstream"])
async def notifier(request, start_notifier):
    """A notifier that catches resuming watchers up from memory, or one that remembers nothing and so
    replays every resume from JetStream."""
    async with start_notifier(**({} if request.param == "memory" else {"recent_events": 0})) as running:
        running.replay_source = request.param
        yield running


def replays(notifier) -> float:
    labels = {"source": notifier.replay_source}
    return REGISTRY.get_sample_value("notifier_replays_total", labels) or 0.0


async def test_a_watcher_that_resumes_misses_nothing_and_sees_nothing_twice(notifier, intake):
    workflow = intake.workflow()
    reference = notifier.watch("analyst")
    first = notifier.watch("analyst")
    await notifier.live_watchers(2)
    before = await asyncio.gather(*(create_and_drive(workflow, "completed") for _ in range(3)))
    await eventually(lambda: len(first.of(*before)) == 9)
    await first.close()

    while_away = await asyncio.gather(*(create_and_drive(workflow, "rejected") for _ in range(3)))
    await eventually(lambda: len(reference.of(*while_away)) == 6)
    replays_before = replays(notifier)
    second = notifier.watch("analyst", resume_token=first.last_token)
    after = await asyncio.gather(*(create_and_drive(workflow, "withdrawn") for _ in range(3)))

    names = (*before, *while_away, *after)
    await eventually(lambda: len(reference.of(*names)) == 9 + 6 + 3)
    await eventually(lambda: len(second.of(*names)) == 6 + 3)
    resumed = [event.event_id for event in first.of(*names) + second.of(*names)]
    assert resumed == [event.event_id for event in reference.of(*names)]
    for name in while_away:
        assert transitions(second.events, name) == PATHS["rejected"]
    assert replays(notifier) == replays_before + 1  # what it missed came from there, the rest live
    await reference.close()
    await second.close()


async def test_resuming_again_and_again_while_changes_keep_coming_loses_and_repeats_nothing(notifier, intake):
    workflow = intake.workflow()
    reference = notifier.watch("analyst")
    await notifier.live_watchers(1)
    paths = list(itertools.islice(itertools.cycle(PATHS), 24))
    expected = sum(len(PATHS[path]) for path in paths)

    async def make_changes() -> list[str]:
        names: list[str] = []
        for start in range(0, len(paths), 4):
            batch = paths[start : start + 4]
            names += await asyncio.gather(*(create_and_drive(workflow, path) for path in batch))
        return names

    replays_before = replays(notifier)
    driver = asyncio.create_task(make_changes())
    sessions: list[Watcher] = [notifier.watch("analyst")]
    # Reconnect after every few events with the last token received, for as long as changes are made.
    while not driver.done():
        current = sessions[-1]
        target = len(current.events) + 3
        with contextlib.suppress(AssertionError):
            await eventually(
                lambda current=current, target=target: len(current.events) >= target or driver.done(),
                within=5.0,
            )
        await current.close()
        token = next((session.last_token for session in reversed(sessions) if session.events), "")
        sessions.append(notifier.watch("analyst", resume_token=token))
    names = await driver

    await eventually(lambda: len(reference.of(*names)) == expected)
    await eventually(lambda: sum(len(session.of(*names)) for session in sessions) >= expected)
    received = [event.event_id for session in sessions for event in session.of(*names)]
    assert received == [event.event_id for event in reference.of(*names)]
    assert len(sessions) > 3
    assert replays(notifier) > replays_before
    await reference.close()
    await sessions[-1].close()


async def test_a_resumed_watch_keeps_its_filters(notifier, intake):
    workflow = intake.workflow()
    first = notifier.watch("analyst")
    await notifier.live_watchers(1)
    warm_up = await create_and_drive(workflow, "withdrawn")
    await eventually(lambda: len(first.of(warm_up)) == 1)
    token = first.last_token
    await first.close()

    spanish, portuguese = await asyncio.gather(
        create_and_drive(workflow, "completed", "ES"), create_and_drive(workflow, "completed", "PT")
    )
    resumed = notifier.watch("analyst", resume_token=token, country=country_pb2.COUNTRY_PT)
    await eventually(lambda: len(resumed.of(portuguese)) == 3)
    assert resumed.of(spanish) == []
    await resumed.close()


async def test_resumes_beyond_the_replay_limit_wait_their_turn(start_notifier, intake):
    async with start_notifier(recent_events=0, max_replays=1) as notifier:
        workflow = intake.workflow()
        first = notifier.watch("analyst")
        await notifier.live_watchers(1)
        warm_up = await create_and_drive(workflow, "withdrawn")
        await eventually(lambda: len(first.of(warm_up)) == 1)
        await first.close()
        missed = await asyncio.gather(*(create_and_drive(workflow, "rejected") for _ in range(2)))

        resumed = [notifier.watch("analyst", resume_token=first.last_token) for _ in range(4)]
        for watcher in resumed:
            await eventually(lambda watcher=watcher: len(watcher.of(*missed)) == 4)
        await notifier.live_watchers(4)
        assert all(
            [event.event_id for event in watcher.of(*missed)]
            == [event.event_id for event in resumed[0].of(*missed)]
            for watcher in resumed
        )
        for watcher in resumed:
            await watcher.close()
