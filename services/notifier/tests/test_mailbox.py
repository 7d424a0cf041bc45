"""The per-watcher mailbox and the recent-id window (no server)."""

import asyncio

import pytest

from notifier.errors import ShuttingDown
from notifier.watch import Mailbox, RecentIds


async def test_offer_refuses_when_full_and_never_waits():
    mailbox: Mailbox[int] = Mailbox(2)
    assert mailbox.offer(1)
    assert mailbox.offer(2)
    assert not mailbox.offer(3)
    assert [await mailbox.get(), await mailbox.get()] == [1, 2]


async def test_put_waits_for_room():
    mailbox: Mailbox[int] = Mailbox(1)
    await mailbox.put(1)
    blocked = asyncio.create_task(mailbox.put(2))
    await asyncio.sleep(0)
    assert not blocked.done()
    assert await mailbox.get() == 1
    await blocked
    assert await mailbox.get() == 2


async def test_ending_wakes_the_reader_with_the_error_and_drops_the_rest():
    mailbox: Mailbox[int] = Mailbox(4)
    reader = asyncio.create_task(mailbox.get())
    await asyncio.sleep(0)
    mailbox.end(ShuttingDown("bye"))
    with pytest.raises(ShuttingDown):
        await reader
    mailbox.offer(5)
    with pytest.raises(ShuttingDown):
        await mailbox.get()


async def test_ending_releases_a_waiting_writer():
    mailbox: Mailbox[int] = Mailbox(1)
    mailbox.offer(1)
    writer = asyncio.create_task(mailbox.put(2))
    await asyncio.sleep(0)
    mailbox.end(ShuttingDown("bye"))
    await asyncio.wait_for(writer, 1)
    assert len(mailbox) == 0


def test_recent_ids_forget_the_oldest_beyond_capacity():
    recent = RecentIds(2)
    assert recent.add("a")
    assert recent.add("b")
    assert not recent.add("a")
    assert recent.add("c")  # "a" is forgotten now
    assert recent.add("a")
    assert not recent.add("c")
