"""Prometheus metrics: the `/metrics` endpoint on its own port, and the per-method RPC metrics.

Labels stay low-cardinality: service, method and status code only, never ids or callers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from wsgiref.simple_server import WSGIServer

import grpc
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server

# From 1 ms (a cached read) to 10 s (the longest deadline we hand out).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

RPC_STARTED = Counter(
    "grpc_server_started_total",
    "RPCs started on the server.",
    ["grpc_service", "grpc_method"],
)
RPC_HANDLED = Counter(
    "grpc_server_handled_total",
    "RPCs completed on the server, by status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
)
RPC_HANDLING_SECONDS = Histogram(
    "grpc_server_handling_seconds",
    "Time from the start of an RPC to its status, in seconds.",
    ["grpc_service", "grpc_method"],
    buckets=LATENCY_BUCKETS,
)


@dataclass
class MethodMetrics:
    """The metric children of one method, resolved once so a call pays no label lookup."""

    service: str
    method: str
    started: Counter = field(init=False)
    handling_seconds: Histogram = field(init=False)
    _handled: dict[grpc.StatusCode, Counter] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.started = RPC_STARTED.labels(self.service, self.method)
        self.handling_seconds = RPC_HANDLING_SECONDS.labels(self.service, self.method)

    @classmethod
    def for_method(cls, full_method: str) -> MethodMetrics:
        service, _, method = full_method.lstrip("/").partition("/")
        return cls(service, method)

    def handled(self, code: grpc.StatusCode, seconds: float) -> None:
        counter = self._handled.get(code)
        if counter is None:
            counter = self._handled[code] = RPC_HANDLED.labels(self.service, self.method, code.name)
        counter.inc()
        self.handling_seconds.observe(seconds)


@dataclass
class MetricsServer:
    """A running `/metrics` HTTP endpoint (a daemon thread); `close()` stops it."""

    host: str
    port: int
    _server: WSGIServer
    _thread: threading.Thread

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_metrics_server(host: str, port: int, *, registry: CollectorRegistry = REGISTRY) -> MetricsServer:
    """Serve Prometheus metrics on `host:port` (port 0 picks a free one; see `.port`)."""
    server, thread = start_http_server(port, addr=host, registry=registry)
    return MetricsServer(host=host, port=int(server.server_port), _server=server, _thread=thread)
