"""Fixtures for the end-to-end tests: the whole stack once per session (`edge`), one HTTP session, and a
grpc-web client of the gateway."""

from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from edge_stack import EdgeStack, running_stack
from grpc_web_client import GrpcWebClient


@pytest.fixture(scope="session")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeStack]:
    """PostgreSQL, NATS, every service and Envoy, as `make run` starts them, on free ports."""
    with running_stack(keep_logs_in=tmp_path_factory.mktemp("stack-logs")) as stack:
        yield stack


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


@pytest.fixture(scope="session")
def grpc_web(http: aiohttp.ClientSession, edge: EdgeStack) -> GrpcWebClient:
    return GrpcWebClient(http, edge.url)
