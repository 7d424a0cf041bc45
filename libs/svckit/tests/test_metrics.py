"""The /metrics endpoint: started on a free port, scraped, stopped; RPC metrics are exposed."""

from __future__ import annotations

import urllib.error
import urllib.request

import grpc
import pytest

from svckit.metrics import MethodMetrics, start_metrics_server


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        body: bytes = response.read()
    return body.decode()


def test_rpc_metrics_are_served_on_a_free_port() -> None:
    MethodMetrics.for_method("/svckit.metrics.v1.Probe/Scrape").handled(grpc.StatusCode.OK, 0.002)
    server = start_metrics_server("127.0.0.1", 0)
    try:
        body = scrape(server.port)
    finally:
        server.close()

    labels = 'grpc_method="Scrape",grpc_service="svckit.metrics.v1.Probe"'
    assert f'grpc_server_handled_total{{grpc_code="OK",{labels}}} 1.0' in body
    assert f'grpc_server_handling_seconds_bucket{{{labels},le="0.0025"}} 1.0' in body


def test_a_closed_server_no_longer_answers() -> None:
    server = start_metrics_server("127.0.0.1", 0)
    server.close()

    with pytest.raises(urllib.error.URLError):
        scrape(server.port)
