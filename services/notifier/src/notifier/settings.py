"""Notifier's settings, from the environment (`NOTIFIER_*`, plus the shared `NATS_URL`, `AUTH_*` and
`OTEL_EXPORTER_OTLP_ENDPOINT`)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from svckit.settings import NatsSettings, ServiceSettings


class NotifierSettings(ServiceSettings, NatsSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore", validate_by_name=True)

    stream: str = Field(default="INTAKE", description="The JetStream stream intake publishes its events to.")
    subject: str = Field(
        default="intake.application.status_changed",
        description="The subject of `ApplicationStatusChanged` events in that stream.",
    )
    watcher_buffer: int = Field(
        default=512,
        ge=1,
        le=100_000,
        description="Events that may wait for one watcher; a watcher that falls further behind is ended "
        "with RESOURCE_EXHAUSTED `WATCHER_TOO_SLOW` (it reconnects with its last resume token).",
    )
    max_watchers: int = Field(
        default=10_000,
        ge=1,
        description="Open watches this replica accepts; beyond, RESOURCE_EXHAUSTED `WATCHER_LIMIT_REACHED`.",
    )
    recent_events: int = Field(
        default=10_000,
        ge=0,
        description="Status changes kept in memory, so that a watcher resuming from a recent token (all "
        "the clients of a replica that shut down) catches up without a JetStream consumer; 0 disables.",
    )
    max_replays: int = Field(
        default=64,
        ge=1,
        description="JetStream replays (one consumer each, for tokens older than memory reaches) running "
        "at once; further resuming watchers wait their turn.",
    )
    heartbeat_seconds: float = Field(
        default=1.0,
        gt=0,
        description="Idle heartbeat of the JetStream consumers; two missed ones (a NATS restart) make "
        "the consumer be recreated from the last event received.",
    )
