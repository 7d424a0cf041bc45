"""Building and running a server: health, reflection, graceful stop, the runner's shutdown order."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from typing import Any

import grpc
import grpc.aio
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from globalcredit.bureau.v1 import bureau_service_pb2_grpc
from svckit.auth import AccessPolicy
from svckit.server import BuiltServer, GrpcService, ServiceRunner, build_server

SERVICE = "svckit.test.v1.TestService"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def health_status(port: int, service: str = "") -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=2
        )
        return int(response.status)


async def wait_for_health(port: int, status: int, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if await health_status(port) == status:
                return
        except grpc.aio.AioRpcError:
            pass
        await asyncio.sleep(0.01)
    raise AssertionError(f"health never became {health_pb2.HealthCheckResponse.ServingStatus.Name(status)}")


async def test_every_service_and_the_server_report_serving(built: BuiltServer) -> None:
    assert await health_status(built.port, "") == SERVING
    assert await health_status(built.port, SERVICE) == SERVING


async def test_a_built_but_unstarted_server_reports_not_serving(build: Any) -> None:
    server = await build()

    assert server.port > 0
    assert server.health._server_status[SERVICE] == NOT_SERVING


async def test_reflection_lists_the_hosted_services(channel: grpc.aio.Channel) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")

    responses = [r async for r in stub.ServerReflectionInfo(iter([request]), timeout=5)]

    names = {s.name for s in responses[0].list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names


async def test_an_in_flight_call_finishes_while_health_reports_not_serving(
    built: BuiltServer, client: Any, analyst_token: str, state: Any
) -> None:
    slow = asyncio.ensure_future(client.unary("Slow", token=analyst_token, timeout=10))
    await state.slow_started.wait()

    stopping = asyncio.create_task(built.stop(10, drain=0.5))
    await wait_for_health(built.port, NOT_SERVING)
    state.release_slow.set()

    assert await slow == b"finished"
    await stopping


async def test_stop_refuses_new_calls_but_lets_in_flight_ones_finish(
    built: BuiltServer, client: Any, analyst_token: str, state: Any
) -> None:
    slow = asyncio.ensure_future(client.unary("Slow", token=analyst_token, timeout=10))
    await state.slow_started.wait()

    async def first_refusal() -> grpc.StatusCode:
        while True:
            try:
                await client.unary("Echo", b"x", token=analyst_token, timeout=1)
            except grpc.aio.AioRpcError as refused:
                return refused.code()
            await asyncio.sleep(0.01)

    stopping = asyncio.create_task(built.stop(10))
    # UNAVAILABLE once the listener is closed; CANCELLED for a call that raced the shutdown.
    assert await asyncio.wait_for(first_refusal(), 5) in {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.CANCELLED,
    }
    assert not slow.done()
    state.release_slow.set()

    assert await slow == b"finished"
    await stopping


async def test_stop_cancels_calls_that_outlive_the_grace_period(
    built: BuiltServer, client: Any, analyst_token: str, state: Any
) -> None:
    slow = asyncio.ensure_future(client.unary("Slow", token=analyst_token, timeout=10))
    await state.slow_started.wait()

    await built.stop(0.1)

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await slow
    assert raised.value.code() in {grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE}


async def test_the_runner_stops_the_server_then_runs_hooks_last_registered_first(
    build: Any,
) -> None:
    server = await build()
    runner = ServiceRunner(grace=5)
    events: list[str] = []

    async def close_nats() -> None:
        events.append(f"close nats (server serving: {server.health._server_status[''] == SERVING})")

    async def dispose_engine() -> None:
        events.append("dispose engine")

    runner.on_shutdown(dispose_engine)
    runner.on_shutdown(lambda: events.append("close metrics server (a plain function)"))
    runner.on_shutdown(close_nats)
    serving = asyncio.create_task(runner.serve(server, handle_signals=False))
    await wait_for_health(server.port, SERVING)

    runner.request_stop()
    await serving

    assert events == [
        "close nats (server serving: False)",
        "close metrics server (a plain function)",
        "dispose engine",
    ]


async def test_a_failing_hook_does_not_stop_the_others(build: Any) -> None:
    server = await build()
    runner = ServiceRunner(grace=1)
    events: list[str] = []

    async def broken() -> None:
        raise RuntimeError("cannot close")

    async def fine() -> None:
        events.append("fine")

    runner.on_shutdown(fine)
    runner.on_shutdown(broken)
    runner.request_stop()

    await runner.serve(server, handle_signals=False)

    assert events == ["fine"]


async def test_sigterm_drains_the_runner(build: Any) -> None:
    server = await build()
    runner = ServiceRunner(grace=1)
    stopped = asyncio.Event()

    async def mark() -> None:
        stopped.set()

    runner.on_shutdown(mark)
    serving = asyncio.create_task(runner.serve(server))
    await wait_for_health(server.port, SERVING)

    signal.raise_signal(signal.SIGTERM)
    await asyncio.wait_for(serving, timeout=10)

    assert stopped.is_set()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


async def test_a_failed_background_task_stops_the_service_and_is_raised(build: Any) -> None:
    server = await build()
    runner = ServiceRunner(grace=1)

    async def crashing_worker() -> None:
        raise ConnectionError("lost the broker for good")

    serving = asyncio.create_task(runner.serve(server, handle_signals=False))
    await wait_for_health(server.port, SERVING)
    runner.spawn("worker", crashing_worker())

    with pytest.raises(ConnectionError, match="lost the broker"):
        await asyncio.wait_for(serving, timeout=10)


async def test_background_tasks_are_cancelled_at_shutdown(build: Any) -> None:
    server = await build()
    runner = ServiceRunner(grace=1)
    cancelled = asyncio.Event()

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    runner.spawn("forever", forever())
    runner.request_stop()
    await runner.serve(server, handle_signals=False)

    assert cancelled.is_set()


async def test_building_warns_about_methods_the_policy_forgets(
    verifier: Any, caplog: pytest.LogCaptureFixture
) -> None:
    name = "globalcredit.bureau.v1.BureauService"
    service = GrpcService(
        name=name,
        register=lambda server: bureau_service_pb2_grpc.add_BureauServiceServicer_to_server(
            bureau_service_pb2_grpc.BureauServiceServicer(), server
        ),
    )
    policy = AccessPolicy.for_service(name, {"GetCreditReport": {"service"}, "ListCircut": {"admin"}})

    with caplog.at_level(logging.WARNING, logger="svckit.server"):
        server = await build_server(
            services=[service], policy=policy, verifier=verifier, error_domain="d", listen="127.0.0.1:0"
        )
    await server.stop(0)

    warnings = [r.getMessage() for r in caplog.records]
    assert f"/{name}/ListCircuits has no access rule, so every call to it is denied" in warnings
    assert f"/{name}/GetCreditReport has no access rule, so every call to it is denied" not in warnings
