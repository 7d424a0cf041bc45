"""NATS JetStream plumbing: a connection that never gives up, streams declared in code, and publish with
a message id (JetStream de-duplicates on it) and trace context in the headers."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import PubAck, RetentionPolicy, StorageType, StreamConfig, StreamInfo
from nats.js.errors import NotFoundError

from svckit.context import REQUEST_ID_KEY, current_request_id
from svckit.telemetry import inject_headers

log = logging.getLogger(__name__)

MSG_ID_HEADER = "Nats-Msg-Id"
REQUEST_ID_HEADER = "X-Request-Id"


async def connect_nats(
    url: str | Sequence[str],
    *,
    name: str,
    reconnect_wait: float = 1.0,
    connect_timeout: float = 5.0,
) -> Client:
    """Connect, then reconnect forever: a NATS restart delays work, it never stops the service."""

    async def on_error(error: Exception) -> None:
        log.warning("nats error: %s", error, extra={"nats_connection": name})

    async def on_disconnected() -> None:
        if not client.is_closed:  # closing on purpose also "disconnects"
            log.warning("nats disconnected; reconnecting", extra={"nats_connection": name})

    async def on_reconnected() -> None:
        log.info(
            "nats reconnected", extra={"nats_connection": name, "nats_server": str(client.connected_url)}
        )

    async def on_closed() -> None:
        log.info("nats connection closed", extra={"nats_connection": name})

    servers = [s.strip() for s in url.split(",")] if isinstance(url, str) else list(url)
    client = await nats.connect(
        servers=servers,
        name=name,
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=reconnect_wait,
        connect_timeout=connect_timeout,
        error_cb=on_error,
        disconnected_cb=on_disconnected,
        reconnected_cb=on_reconnected,
        closed_cb=on_closed,
    )
    return client


async def ensure_stream(
    js: JetStreamContext,
    name: str,
    subjects: Sequence[str],
    *,
    sync_always: bool,
    max_age: timedelta,
    duplicate_window: timedelta = timedelta(minutes=2),
    replicas: int = 1,
) -> StreamInfo:
    """Create the file-storage, limits-retention stream `name`, or update it to this configuration.

    `sync_always` documents that acknowledged writes must survive power loss. JetStream has no per-stream
    fsync setting: the server must run with `jetstream { sync_interval: always }` (the dev launcher and
    the chart do). The flag is kept in the stream's metadata so an operator can see which streams need it.
    """
    config = StreamConfig(
        name=name,
        subjects=list(subjects),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=max_age.total_seconds(),
        duplicate_window=duplicate_window.total_seconds(),
        num_replicas=replicas,
        metadata={"sync": "always" if sync_always else "interval"},
    )
    try:
        await js.stream_info(name)
    except NotFoundError:
        info = await js.add_stream(config)
        log.info("created stream", extra={"stream": name, "subjects": list(subjects)})
        return info
    return await js.update_stream(config)


async def publish(
    js: JetStreamContext,
    subject: str,
    payload: bytes,
    *,
    msg_id: str,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,  # noqa: ASYNC109  # JetStream's own request timeout for the ack
) -> PubAck:
    """Publish and wait for the stream's ack. Publishing the same `msg_id` again within the stream's
    duplicate window stores nothing and acks with `duplicate=True` (the first ack says None, not False).
    """
    all_headers = dict(headers or {})
    all_headers[MSG_ID_HEADER] = msg_id
    request_id = current_request_id()
    if request_id:
        all_headers.setdefault(REQUEST_ID_HEADER, request_id)
    inject_headers(all_headers)
    return await js.publish(subject, payload, timeout=timeout, headers=all_headers)


def request_id_from_headers(headers: dict[str, str] | None) -> str | None:
    """The request id a message was published under, if any (header names compared case-insensitively)."""
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == REQUEST_ID_KEY:
            return value
    return None
