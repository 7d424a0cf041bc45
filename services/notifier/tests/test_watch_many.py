"""Many concurrent watchers: each sees every matching change exactly once, in order per application."""

import asyncio
import itertools

from notifier_watchers import PATHS, create_and_drive, transitions

from notifier import tokens
from svckit.testing.polling import eventually

WATCHERS = 50
APPLICATIONS = 20


async def test_fifty_watchers_each_see_every_change_once_and_in_order(notifier, intake):
    watchers = [notifier.watch("analyst") for _ in range(WATCHERS)]
    await notifier.live_watchers(WATCHERS)
    workflow = intake.workflow()
    paths = list(itertools.islice(itertools.cycle(PATHS), APPLICATIONS))

    names = await asyncio.gather(*(create_and_drive(workflow, path) for path in paths))

    expected_count = sum(len(PATHS[path]) for path in paths)
    for watcher in watchers:
        await eventually(lambda watcher=watcher: len(watcher.of(*names)) >= expected_count)
    # Whatever else was going to arrive has: the slowest watcher is the last to get the last change.
    for watcher in watchers:
        events = watcher.of(*names)
        assert len(events) == expected_count
        assert len({event.event_id for event in events}) == expected_count
        for name, path in zip(names, paths, strict=True):
            assert transitions(events, name) == PATHS[path]
        # One stream, one order: the stream sequence in the resume token grows with every event.
        sequences = [tokens.decode(event.resume_token) for event in watcher.events]
        assert sequences == sorted(set(sequences))
    assert all(watcher.error is None for watcher in watchers)
    # Every watcher got the same events in the same order.
    reference = [event.event_id for event in watchers[0].of(*names)]
    assert all([event.event_id for event in watcher.of(*names)] == reference for watcher in watchers)
    await asyncio.gather(*(watcher.close() for watcher in watchers))
