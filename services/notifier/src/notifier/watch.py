"""The streaming core, testable without gRPC: a hub that fans the live feed out to every watcher's bounded
mailbox, and each watcher's session (catching up from a resume token, the switch-over to live without gap
or duplicate, and the ways a watch ends).

How a watch stays exact. Every event carries its stream sequence, and a watcher remembers the last one it
was given (`_last`), so anything at or below it is dropped: nothing twice, nothing out of order. The hub's
`position` is the sequence of the last status change the live feed dispatched; the feed promises every
later one to whoever is registered. A watcher without a token registers at once, from `position` on. A
resuming watcher whose missed events the hub still holds in memory gets them in its mailbox and registers
in the same step of the event loop (nothing can be dispatched in between). One with an older token
replays on its own ordered JetStream consumer until it has covered `position`, then registers, again in
one step: everything up to `position` came from the replay, everything after it comes live.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Coroutine
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

from notifier import metrics
from notifier.errors import (
    EventsUnavailable,
    ResumeTokenExpired,
    ShuttingDown,
    WatchEnded,
    WatcherLimitReached,
    WatcherTooSlow,
)
from notifier.events import StatusChange
from notifier.filters import Criteria

log = logging.getLogger(__name__)

T = TypeVar("T")

# A replay reads ahead of its watcher by at most this many events; JetStream's flow control holds the rest.
REPLAY_READ_AHEAD = 64
# Event ids remembered to drop a republished event (one stored twice, beyond JetStream's duplicate window).
DEFAULT_RECENT_EVENT_IDS = 65_536
DEFAULT_RECENT_EVENTS = 10_000
DEFAULT_MAX_REPLAYS = 64

CLIENT_CLOSED = "CLIENT_CLOSED"
ERROR = "ERROR"


class Replay(Protocol):
    """The status changes stored after a sequence, oldest first, then new ones as they are stored."""

    async def next(self) -> StatusChange: ...

    async def close(self) -> None: ...


class EventLog(Protocol):
    """The stream behind the live feed, for what a resuming watcher needs."""

    async def bounds(self) -> tuple[int, int]:
        """(first, last) stream sequence; an empty stream has first = last + 1 (or both 0)."""
        ...

    async def replay(self, after: int) -> Replay: ...


class Mailbox(Generic[T]):
    """A bounded FIFO for one reader, that can be ended: the reader then gets the error at once, and
    whatever was still buffered is dropped (the client's resume token covers it).

    `offer` never waits (the hub must not be held up by any watcher); `put` waits for room (a replay is
    held back by its own watcher).
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a mailbox holds at least one item")
        self.capacity = capacity
        self._items: deque[T] = deque()
        self._error: BaseException | None = None
        self._getter: asyncio.Future[None] | None = None
        self._putter: asyncio.Future[None] | None = None

    def __len__(self) -> int:
        return len(self._items)

    def offer(self, item: T) -> bool:
        """Add `item` unless full; False when full. An ended mailbox takes (and drops) anything."""
        if self._error is not None:
            return True
        if len(self._items) >= self.capacity:
            return False
        self._items.append(item)
        self._wake_getter()
        return True

    async def put(self, item: T) -> None:
        """Add `item`, waiting for room; returns at once (dropping it) once the mailbox has ended."""
        while self._error is None and len(self._items) >= self.capacity:
            self._putter = asyncio.get_running_loop().create_future()
            await self._putter
        if self._error is None:
            self._items.append(item)
            self._wake_getter()

    async def get(self) -> T:
        """The oldest item, waiting for one; the end's error once ended."""
        while True:
            if self._error is not None:
                raise self._error
            if self._items:
                item = self._items.popleft()
                self._wake_putter()
                return item
            self._getter = asyncio.get_running_loop().create_future()
            await self._getter

    def end(self, error: BaseException) -> None:
        if self._error is None:
            self._error = error
            self._items.clear()
        self._wake_getter()
        self._wake_putter()

    def _wake_getter(self) -> None:
        if self._getter is not None and not self._getter.done():
            self._getter.set_result(None)
        self._getter = None

    def _wake_putter(self) -> None:
        if self._putter is not None and not self._putter.done():
            self._putter.set_result(None)
        self._putter = None


class RecentIds:
    """The last `capacity` event ids seen: a republished event is dropped if its first copy is among them."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._order: deque[str] = deque()
        self._seen: set[str] = set()

    def add(self, event_id: str) -> bool:
        """True when `event_id` is new (and now remembered); False for a repeat."""
        if event_id in self._seen:
            return False
        if len(self._order) >= self._capacity:
            self._seen.discard(self._order.popleft())
        self._order.append(event_id)
        self._seen.add(event_id)
        return True


class Hub:
    """Fans the live feed out to registered watchers, and keeps every open watch for shutdown.

    The feed calls `start` once, then `dispatch` for each status change in stream order. Dispatching never
    waits: a watcher whose mailbox is full is ended (`WatcherTooSlow`) instead of holding up the others.

    Live watchers are grouped by their criteria and indexed by (name, partner scope), so an event costs
    one filter check per distinct criteria that could match it, plus one `offer` per watcher it goes to:
    a thousand partners' watchers cost an event of one partner only that partner's watchers.

    The hub also keeps the last `recent_events` status changes, so a watcher resuming from a recent token
    (every client of a replica that shut down, a browser tab that lost its connection for a moment) is
    caught up from memory, without a JetStream consumer of its own.
    """

    def __init__(
        self,
        events: EventLog,
        *,
        buffer_size: int,
        max_watchers: int,
        recent_events: int = DEFAULT_RECENT_EVENTS,
        max_replays: int = DEFAULT_MAX_REPLAYS,
        recent_event_ids: int = DEFAULT_RECENT_EVENT_IDS,
    ) -> None:
        self.events = events
        self.buffer_size = buffer_size
        self.max_watchers = max_watchers
        self._position = 0
        self._ready = asyncio.Event()
        self._closed = False
        self._watches: set[Watch] = set()
        self._live: dict[_IndexKey, dict[Criteria, set[Watch]]] = {}
        self._recent_ids = RecentIds(recent_event_ids)
        self._recent: deque[StatusChange] = deque(maxlen=recent_events)
        # Every status change after this sequence is in `_recent` (duplicates aside).
        self._recent_floor = 0
        # Each JetStream replay is a consumer on the stream: bound them, so that a crowd of clients with
        # old tokens queues here instead of flooding JetStream's API.
        self.replay_slots = asyncio.Semaphore(max_replays)
        self._background: set[asyncio.Task[None]] = set()

    # The feed's side.

    def start(self, position: int) -> None:
        """The feed is live: it will dispatch every status change stored after `position`."""
        self._position = position
        self._recent_floor = position
        self._ready.set()

    def dispatch(self, change: StatusChange) -> int:
        """Offer `change` to every live watcher it matches; returns how many took it."""
        self._position = change.sequence
        if not self._recent_ids.add(change.event_id):
            metrics.DUPLICATES_DROPPED.inc()
            return 0
        self._remember(change)
        delivered = 0
        too_slow: list[Watch] = []
        for key in _index_keys(change):
            for criteria, watches in self._live.get(key, _NO_GROUPS).items():
                if not criteria.matches(change):
                    continue
                for watch in watches:
                    if watch.mailbox.offer(change):
                        delivered += 1
                    else:
                        too_slow.append(watch)
        for watch in too_slow:  # after the loop: ending a watch unregisters it
            watch.end(
                WatcherTooSlow(
                    f"more than {self.buffer_size} events waited for this watcher; reconnect with the "
                    "resume token of the last event you received"
                )
            )
        return delivered

    def _remember(self, change: StatusChange) -> None:
        recent = self._recent
        if recent.maxlen == 0:
            self._recent_floor = change.sequence
            return
        if len(recent) == recent.maxlen:
            self._recent_floor = recent[0].sequence
        recent.append(change)

    # The watchers' side.

    @property
    def position(self) -> int:
        return self._position

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    @property
    def watcher_count(self) -> int:
        """Open watches, whether starting, replaying, live or ended but not yet closed."""
        return len(self._watches)

    @property
    def live_count(self) -> int:
        """Watches registered for live events."""
        return sum(len(watches) for groups in self._live.values() for watches in groups.values())

    async def wait_ready(self) -> None:
        await self._ready.wait()

    def recent_after(self, after: int) -> list[StatusChange] | None:
        """Every status change after sequence `after`, oldest first, from memory; None when memory does
        not reach back that far."""
        if after < self._recent_floor:
            return None
        changes: list[StatusChange] = []
        for change in reversed(self._recent):
            if change.sequence <= after:
                break
            changes.append(change)
        changes.reverse()
        return changes

    def watch(self, criteria: Criteria, *, after: int | None) -> Watch:
        """A new watch (enter it with `async with`); `after` is the resume token's sequence, if any."""
        if self._closed:
            raise ShuttingDown("the service is shutting down; reconnect with your last resume token")
        if len(self._watches) >= self.max_watchers:
            raise WatcherLimitReached(f"this replica serves its maximum of {self.max_watchers} watchers")
        watch = Watch(self, criteria, after=after)
        self._watches.add(watch)
        return watch

    def close(self) -> None:
        """End every watch (`ShuttingDown`) and refuse new ones."""
        self._closed = True
        for watch in list(self._watches):
            watch.end(ShuttingDown("the service is shutting down; reconnect with your last resume token"))

    async def wait_background(self) -> None:
        """Let the clean-up started by ended watches (closing replay consumers) finish."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    def _register(self, watch: Watch) -> None:
        criteria = watch.criteria
        groups = self._live.setdefault((criteria.name, criteria.partner_id), {})
        groups.setdefault(criteria, set()).add(watch)

    def _unregister(self, watch: Watch) -> None:
        criteria = watch.criteria
        key = (criteria.name, criteria.partner_id)
        groups = self._live.get(key)
        watches = None if groups is None else groups.get(criteria)
        if groups is None or watches is None:
            return
        watches.discard(watch)
        if not watches:
            del groups[criteria]
            if not groups:
                del self._live[key]

    def _forget(self, watch: Watch) -> None:
        self._unregister(watch)
        self._watches.discard(watch)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


_IndexKey = tuple[str | None, str | None]  # (name filter, partner scope)
_NO_GROUPS: dict[Criteria, set[Watch]] = {}


def _index_keys(change: StatusChange) -> tuple[_IndexKey, ...]:
    """The index entries whose watchers may want `change`."""
    if change.partner_id:
        return (
            (None, None),
            (change.name, None),
            (None, change.partner_id),
            (change.name, change.partner_id),
        )
    return ((None, None), (change.name, None))


class Watch:
    """One watcher's session: `async with hub.watch(...) as watch`, then `await watch.next()` for each event.

    A watcher ended as too slow usually sits blocked on a write its client does not take; it gets its
    error once the client reads again. Until then it holds no events and no buffer here (only what
    HTTP/2 flow control let gRPC write ahead), but it still counts towards the hub's `max_watchers`:
    gRPC's asyncio server offers no way to reset a stream whose writes are blocked.
    """

    def __init__(self, hub: Hub, criteria: Criteria, *, after: int | None) -> None:
        self.criteria = criteria
        self.mailbox: Mailbox[StatusChange] = Mailbox(hub.buffer_size)
        self._hub = hub
        self._after = after
        self._last = 0
        self._replay: Replay | None = None
        self._replay_inbox: Mailbox[StatusChange] | None = None
        self._replay_ids: RecentIds | None = None
        self._replay_slot = False
        self._pump: asyncio.Task[None] | None = None
        self._error: WatchEnded | None = None
        self._ended = asyncio.Event()
        self._started = False
        self._closed = False

    @property
    def live(self) -> bool:
        """Registered with the hub (as opposed to starting or replaying)."""
        return self._started and self._replay_inbox is None and self._error is None

    async def __aenter__(self) -> Watch:
        try:
            await self._start()
        except BaseException as error:
            self.close(error)
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(exc)

    async def next(self) -> StatusChange:
        """The next status change for this watcher; raises `WatchEnded` when the server ends the watch."""
        while True:
            inbox = self._replay_inbox
            if inbox is not None:
                change = await inbox.get()
                if change.sequence <= self._last:
                    continue
                self._last = change.sequence
                assert self._replay_ids is not None
                fresh = self._replay_ids.add(change.event_id)
                if change.sequence >= self._hub.position:
                    self._go_live()
                if not fresh or not self.criteria.matches(change):
                    continue
            else:
                change = await self.mailbox.get()
                if change.sequence <= self._last:
                    continue
                self._last = change.sequence
            metrics.EVENTS_SENT.inc()
            return change

    def end(self, error: WatchEnded) -> None:
        """End the watch: the reader's next `next()` raises `error` (whatever was buffered is dropped)."""
        if self._error is not None or self._closed:
            return
        self._error = error
        self._ended.set()
        if self._started:
            # Counted when the server decides, not when the stream finally closes (a stalled one may not).
            metrics.WATCHERS_ENDED.labels(error.reason).inc()
        self._hub._unregister(self)
        self.mailbox.end(error)
        if self._replay_inbox is not None:
            self._replay_inbox.end(error)

    def close(self, error: BaseException | None = None) -> None:
        """Release everything; idempotent. `error` is what ended the reading (None: the reader stopped)."""
        if self._closed:
            return
        self._closed = True
        self._hub._forget(self)
        was_replaying = self._replay_inbox is not None
        self._stop_replay()
        if self._started:
            if was_replaying:
                metrics.REPLAYING_WATCHERS.dec()
            metrics.ACTIVE_WATCHERS.dec()
            if self._error is None:  # else counted by `end`
                metrics.WATCHERS_ENDED.labels(_end_reason(error)).inc()

    async def _start(self) -> None:
        if not self._hub.ready:
            # Until the feed is live there is no position to start from (the stream may not exist yet).
            await self._unless_ended(self._hub.wait_ready())
        self._raise_if_ended()
        if self._after is None:
            self._last = self._hub.position
            self._go_live()
        else:
            await self._resume(self._after)
        self._started = True
        metrics.ACTIVE_WATCHERS.inc()
        if self._replay_inbox is not None:
            metrics.REPLAYING_WATCHERS.inc()

    async def _resume(self, after: int) -> None:
        first, last = await self._unless_ended(self._hub.events.bounds())
        if after > last:
            raise ResumeTokenExpired("the resume token is not from this stream's history; watch without it")
        if after + 1 < first:
            raise ResumeTokenExpired(
                "the events after the resume token are no longer retained; watch without it"
            )
        self._last = after
        if self._resume_from_memory(after):
            return
        await self._unless_ended(self._hub.replay_slots.acquire())
        self._replay_slot = True
        self._raise_if_ended()
        if self._resume_from_memory(after):  # the feed may have caught up while we queued
            return
        replay = await self._unless_ended(self._hub.events.replay(after))
        self._replay = replay
        if self._error is not None:  # ended while the consumer was being created
            self._stop_replay()
            self._raise_if_ended()
        inbox: Mailbox[StatusChange] = Mailbox(REPLAY_READ_AHEAD)
        self._replay_inbox = inbox
        self._replay_ids = RecentIds(DEFAULT_RECENT_EVENT_IDS)
        self._pump = asyncio.create_task(self._pump_replay(replay, inbox), name="notifier-replay")
        metrics.REPLAYS.labels("jetstream").inc()

    def _resume_from_memory(self, after: int) -> bool:
        """Go live with what was missed already in the mailbox, when the hub remembers it all and it fits."""
        missed = self._hub.recent_after(after)
        if missed is None:
            return False
        matching = [change for change in missed if self.criteria.matches(change)]
        if len(matching) > self.mailbox.capacity:
            return False
        # Synchronous from reading the hub's memory to registering: nothing is dispatched in between.
        self._go_live()
        for change in matching:
            self.mailbox.offer(change)
        if missed:
            metrics.REPLAYS.labels("memory").inc()
        return True

    async def _pump_replay(self, replay: Replay, inbox: Mailbox[StatusChange]) -> None:
        try:
            while True:
                await inbox.put(await replay.next())
        except EventsUnavailable as error:
            self.end(error)
        except Exception:
            log.exception("replay failed")
            self.end(EventsUnavailable("the events could not be read; reconnect with your last resume token"))

    def _go_live(self) -> None:
        # No await between reading the hub's position (by the caller) and registering: see the module doc.
        self._hub._register(self)
        if self._replay_inbox is not None:
            metrics.REPLAYING_WATCHERS.dec()
        self._stop_replay()  # also frees the replay slot of a watcher that queued for one in vain

    def _stop_replay(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            self._pump = None
        self._replay_inbox = None
        self._replay_ids = None
        replay, self._replay = self._replay, None
        if replay is not None:
            self._hub._spawn(_close_quietly(replay), name="notifier-replay-close")
        if self._replay_slot:
            self._replay_slot = False
            self._hub.replay_slots.release()

    def _raise_if_ended(self) -> None:
        if self._error is not None:
            raise self._error

    async def _unless_ended(self, work: Awaitable[T]) -> T:
        """`await work`, unless the watch is ended first (then its error)."""
        task = asyncio.ensure_future(work)
        ended = asyncio.ensure_future(self._ended.wait())
        try:
            await asyncio.wait((task, ended), return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()
            if not task.done():
                task.cancel()
                task.add_done_callback(_retrieve)
        if not task.done():
            self._raise_if_ended()
        return task.result()


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Collect an abandoned task's outcome, so asyncio does not report it as never retrieved."""
    if not task.cancelled():
        task.exception()


def _end_reason(error: BaseException | None) -> str:
    if error is None or isinstance(error, asyncio.CancelledError | GeneratorExit):
        return CLIENT_CLOSED
    if isinstance(error, WatchEnded):
        return error.reason
    return ERROR


async def _close_quietly(replay: Replay) -> None:
    try:
        await replay.close()
    except Exception:
        # The consumer is ephemeral: JetStream removes it by itself once nobody listens.
        log.debug("closing a replay consumer failed", exc_info=True)
