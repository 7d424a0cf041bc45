"""Slow watchers: they never hold up the others, and one whose buffer overflows is ended with
RESOURCE_EXHAUSTED `WATCHER_TOO_SLOW` once it reads again (having lost nothing: its token resumes it)."""

import grpc
from notifier_watchers import create_and_drive
from prometheus_client import REGISTRY

from svckit.errors import error_details
from svckit.testing.polling import eventually

# A client that reads nothing takes only this much before HTTP/2 flow control blocks the server's writes
# (the default window is 64 KiB, hundreds of events).
SMALL_WINDOW = {"grpc.http2.lookahead_bytes": 1024, "grpc.http2.bdp_probe": 0}
# A small mailbox, yet deeper than the three changes one application makes: the applications are driven
# one after another, each once the reading watchers have its changes, so that a watcher which reads is
# never more than one application behind, however busy the machine (driving them all at once on two busy
# cores put bursts into every mailbox before any writer ran, and ended the readers as too slow too).
BUFFER = 8
# Enough changes that the slow watcher's unread ones overflow gRPC's own send buffers as well as its
# mailbox, however the transport happens to batch writes.
APPLICATIONS = 30
CHANGES = 3 * APPLICATIONS


def ended(reason: str) -> float:
    return REGISTRY.get_sample_value("notifier_watchers_ended_total", {"reason": reason}) or 0.0


async def test_a_slow_watcher_does_not_delay_the_others_and_is_ended_as_too_slow(start_notifier, intake):
    async with start_notifier(watcher_buffer=BUFFER) as notifier:
        slow = notifier.call("analyst", channel_options=SMALL_WINDOW)
        others = [notifier.watch("analyst") for _ in range(3)]
        await notifier.live_watchers(4)
        ended_before = ended("WATCHER_TOO_SLOW")
        workflow = intake.workflow()

        # The others get every change promptly while the slow watcher reads nothing at all.
        names = []
        for _ in range(APPLICATIONS):
            names.append(await create_and_drive(workflow, "completed"))
            for watcher in others:
                await eventually(lambda watcher=watcher: len(watcher.of(names[-1])) == 3, within=10.0)
        await eventually(lambda: notifier.app.hub.live_count == 3, within=10.0)
        assert ended("WATCHER_TOO_SLOW") == ended_before + 1

        # Reading again, it gets what had already been written to it, then the reason it was ended.
        received = []
        try:
            async for response in slow:
                received.append(response.event)
            raise AssertionError("the slow watcher's stream ended without an error")
        except grpc.aio.AioRpcError as failure:
            details = error_details(failure)
        assert details.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert details.reason == "WATCHER_TOO_SLOW"
        assert details.domain == "notifier.globalcredit.com"
        reference = [event.event_id for event in others[0].of(*names)]
        assert 0 < len(received) < CHANGES
        assert [event.event_id for event in received] == reference[: len(received)]

        # Its last token resumes it: it loses nothing. (What it missed does not fit its buffer, so it
        # is replayed from JetStream rather than handed over from memory.)
        replays = REGISTRY.get_sample_value("notifier_replays_total", {"source": "jetstream"}) or 0.0
        resumed = notifier.watch("analyst", resume_token=received[-1].resume_token)
        await eventually(lambda: len(resumed.of(*names)) == CHANGES - len(received))
        assert [event.event_id for event in received + resumed.of(*names)] == reference
        assert REGISTRY.get_sample_value("notifier_replays_total", {"source": "jetstream"}) == replays + 1
        for watcher in (*others, resumed):
            await watcher.close()
