"""Fixtures for bureau-gateway's tests: a token issuer, and real servers on free ports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from bureau_gateway_harness import (
    AUDIENCE,
    ISSUER,
    RunningBureauGateway,
    running_bureau_gateway,
    settings_for,
)

from svckit.auth import TokenIssuer

GatewayFactory = Callable[..., AbstractAsyncContextManager[RunningBureauGateway]]


@pytest.fixture(scope="session")
def bureau_issuer() -> TokenIssuer:
    return TokenIssuer.generate(ISSUER, AUDIENCE, kid="bureau-test")


@pytest.fixture(scope="module")
async def shared_gateway(bureau_issuer: TokenIssuer) -> AsyncIterator[RunningBureauGateway]:
    """One server for a module's tests that do not change its state: fault injection off, and a circuit
    threshold no test reaches, so that the sandbox's timeouts do not open circuits for other tests."""
    settings = settings_for(bureau_issuer, circuit_failure_threshold=1000)
    async with running_bureau_gateway(settings, bureau_issuer) as running:
        yield running


@pytest.fixture
def gateway_server(bureau_issuer: TokenIssuer) -> GatewayFactory:
    """`async with gateway_server(**settings) as running:` a server of its own for one test."""

    def start(**overrides: Any) -> AbstractAsyncContextManager[RunningBureauGateway]:
        return running_bureau_gateway(settings_for(bureau_issuer, **overrides), bureau_issuer)

    return start
