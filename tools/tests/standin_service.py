"""A stand-in for a real service in the dev stack's tests.

`python standin_service.py` serves gRPC health (SERVING) on STANDIN_GRPC_LISTEN and writes the environment
it was given to STANDIN_ENV_DUMP; `python standin_service.py migrate` records the DATABASE_URL it was given
in STANDIN_MIGRATED and exits.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc


async def serve() -> None:
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    server.add_insecure_port(os.environ["STANDIN_GRPC_LISTEN"])
    await server.start()
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    Path(os.environ["STANDIN_ENV_DUMP"]).write_text(json.dumps(dict(os.environ)))  # noqa: ASYNC240
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    await stopping.wait()
    await server.stop(1)


if __name__ == "__main__":
    if sys.argv[1:] == ["migrate"]:
        Path(os.environ["STANDIN_MIGRATED"]).write_text(os.environ["DATABASE_URL"])
    else:
        asyncio.run(serve())
