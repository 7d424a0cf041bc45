"""Notifier's own Prometheus metrics (the RPC metrics come from svckit). No label carries an id or a
caller: `reason` is one of a handful of fixed values."""

from prometheus_client import Counter, Gauge

ACTIVE_WATCHERS = Gauge("notifier_active_watchers", "Open WatchApplications streams.")
REPLAYING_WATCHERS = Gauge(
    "notifier_replaying_watchers", "Open streams still replaying from a resume token (not yet live)."
)
REPLAYS = Counter(
    "notifier_replays_total",
    "Watches that resumed with events to catch up on, by where those came from: `memory` (the hub's "
    "recent events) or `jetstream` (a consumer of their own, for older tokens).",
    ["source"],
)
EVENTS_SENT = Counter("notifier_events_sent_total", "Status changes sent to watchers (one per watcher).")
WATCHERS_ENDED = Counter(
    "notifier_watchers_ended_total",
    "Watch streams that ended, by reason: CLIENT_CLOSED, WATCHER_TOO_SLOW, SHUTTING_DOWN, "
    "EVENTS_UNAVAILABLE, ERROR.",
    ["reason"],
)
EVENTS_RECEIVED = Counter(
    "notifier_events_received_total", "Status changes the live feed received from JetStream."
)
DUPLICATES_DROPPED = Counter(
    "notifier_duplicate_events_dropped_total",
    "Status changes received again under an event id already seen (republished after JetStream's "
    "duplicate window), not sent.",
)
FEED_PENDING = Gauge(
    "notifier_feed_pending_events",
    "Status changes stored in JetStream that the live feed has not received yet (its consumer lag).",
)
FEED_SEQUENCE = Gauge(
    "notifier_feed_stream_sequence", "Stream sequence of the last status change the live feed dispatched."
)
