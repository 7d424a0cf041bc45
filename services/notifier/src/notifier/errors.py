"""How a watch is refused or ended, in notifier's own terms; `api.py` maps each to a gRPC status.

A watch that ends (`WatchEnded`) has lost nothing: the client reconnects with the resume token of the last
event it received and is replayed what it missed.
"""

from typing import ClassVar


class WatchEnded(Exception):
    """The server ends an open watch; `reason` is the ErrorInfo reason the client sees."""

    reason: ClassVar[str] = "WATCH_ENDED"


class WatcherTooSlow(WatchEnded):
    """The watcher's bounded buffer overflowed: it reads more slowly than events arrive."""

    reason = "WATCHER_TOO_SLOW"


class ShuttingDown(WatchEnded):
    """This replica is draining; another one takes the reconnection."""

    reason = "SHUTTING_DOWN"


class EventsUnavailable(WatchEnded):
    """JetStream could not be asked (NATS down, a timeout); retrying later works."""

    reason = "EVENTS_UNAVAILABLE"


class ResumeTokenExpired(Exception):
    """The events after the token are no longer retained (or the token is from another stream's history)."""


class WatcherLimitReached(Exception):
    """This replica already serves as many watchers as it is configured for."""
