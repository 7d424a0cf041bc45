"""LocalNats against a real nats-server: JetStream on, data surviving a restart or a crash."""

from __future__ import annotations

import asyncio
import http.client
import socket
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from svckit.local import LocalNats, PortInUse, free_port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalNats]:
    local = LocalNats(tmp_path / "store", log_file=tmp_path / "nats.log")
    try:
        yield local
    finally:
        local.stop()


async def publish_to_new_stream(url: str, count: int) -> None:
    client = await nats.connect(url)
    try:
        jetstream = client.jetstream()
        await jetstream.add_stream(name="ORDERS", subjects=["orders.>"])
        for number in range(count):
            await jetstream.publish("orders.created", f"order {number}".encode())
    finally:
        await client.close()


async def stored_messages(url: str) -> list[bytes]:
    client = await nats.connect(url)
    try:
        jetstream = client.jetstream()
        info = await jetstream.stream_info("ORDERS")
        return [
            (await jetstream.get_msg("ORDERS", sequence)).data or b""
            for sequence in range(1, info.state.messages + 1)
        ]
    finally:
        await client.close()


async def test_jetstream_data_survives_a_restart_on_the_same_url(server: LocalNats) -> None:
    server.start()
    url = server.url
    await publish_to_new_stream(url, 3)

    server.restart()

    assert server.url == url
    assert await stored_messages(url) == [b"order 0", b"order 1", b"order 2"]


async def test_jetstream_data_survives_a_kill(server: LocalNats) -> None:
    server.start()
    await publish_to_new_stream(server.url, 2)

    server.kill()
    assert not server.running
    server.start()

    assert await stored_messages(server.url) == [b"order 0", b"order 1"]


async def test_a_connected_client_reconnects_after_a_restart(server: LocalNats) -> None:
    server.start()
    reconnected = asyncio.Event()

    async def on_reconnect() -> None:
        reconnected.set()

    client = await nats.connect(
        server.url, reconnect_time_wait=0.1, max_reconnect_attempts=-1, reconnected_cb=on_reconnect
    )
    try:
        jetstream = client.jetstream()
        await jetstream.add_stream(name="EVENTS", subjects=["events.>"])

        server.restart()
        await asyncio.wait_for(reconnected.wait(), timeout=10)

        acknowledgement = await jetstream.publish("events.after", b"still here", timeout=5)
        assert acknowledgement.stream == "EVENTS"
        assert acknowledgement.seq == 1
    finally:
        await client.close()


def test_serves_healthz_on_the_monitoring_port(tmp_path: Path) -> None:
    monitor_port = free_port()
    with LocalNats(tmp_path / "store", monitor_port=monitor_port) as local:
        assert local.monitor_url == f"http://127.0.0.1:{monitor_port}"
        connection = http.client.HTTPConnection("127.0.0.1", monitor_port, timeout=5)
        connection.request("GET", "/healthz?js-enabled-only=true")
        response = connection.getresponse()
        assert response.status == 200
        connection.close()


def test_reports_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        with pytest.raises(PortInUse, match="NATS needs it"):
            LocalNats(tmp_path / "store", port=port).start()
