"""Whether a gRPC server reports SERVING over `grpc.health.v1`, for readiness waits."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

# A proxy from the environment (http_proxy) must not stand between us and a loopback server.
_CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]


def grpc_serving(address: str, service: str = "", timeout: float = 1.0) -> bool:
    """One `Health.Check` on `address` ("127.0.0.1:50051"): True only for SERVING.

    A fresh channel each call, so a server that was not listening a moment ago is tried at once rather
    than after the channel's reconnect back-off.
    """
    with grpc.insecure_channel(address, options=_CHANNEL_OPTIONS) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError:
            return False
    return bool(response.status == health_pb2.HealthCheckResponse.SERVING)
