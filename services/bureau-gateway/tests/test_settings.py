"""Settings come from `BUREAU_*` environment variables (and the shared `AUTH_*`), with working defaults."""

import json
import os

import pytest
from pydantic import ValidationError

from bureau_gateway.settings import BureauSettings
from svckit.auth import TokenIssuer


@pytest.fixture
def environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("BUREAU_"):
            monkeypatch.delenv(name)
    jwks = json.dumps(TokenIssuer.generate("iss", "aud").jwks())
    monkeypatch.setenv("AUTH_JWKS", jwks)
    return monkeypatch


def test_the_defaults_suit_a_developer_machine(environment):
    settings = BureauSettings()
    assert (settings.grpc_listen, settings.metrics_listen) == ("127.0.0.1:50053", "127.0.0.1:9103")
    assert settings.fault_injection_enabled is False
    assert settings.latency_seconds + settings.latency_jitter_seconds / 2 == pytest.approx(0.02)
    assert settings.failure_rate == 0
    assert (settings.attempt_timeout_seconds, settings.call_timeout_seconds) == (0.3, 1.5)
    assert settings.max_attempts == 3
    assert (settings.circuit_failure_threshold, settings.circuit_cool_down_seconds) == (5, 10.0)


def test_every_setting_is_read_from_its_bureau_variable(environment):
    for name, value in {
        "BUREAU_GRPC_LISTEN": "127.0.0.2:7000",
        "BUREAU_METRICS_LISTEN": "127.0.0.2:7001",
        "BUREAU_LATENCY_SECONDS": "0.05",
        "BUREAU_LATENCY_JITTER_SECONDS": "0",
        "BUREAU_FAILURE_RATE": "0.25",
        "BUREAU_FAULT_INJECTION_ENABLED": "true",
        "BUREAU_ATTEMPT_TIMEOUT_SECONDS": "0.2",
        "BUREAU_CALL_TIMEOUT_SECONDS": "0.9",
        "BUREAU_ANSWER_MARGIN_SECONDS": "0.01",
        "BUREAU_MAX_ATTEMPTS": "4",
        "BUREAU_BACKOFF_BASE_SECONDS": "0.02",
        "BUREAU_BACKOFF_MAX_SECONDS": "0.2",
        "BUREAU_CIRCUIT_FAILURE_THRESHOLD": "7",
        "BUREAU_CIRCUIT_COOL_DOWN_SECONDS": "2.5",
        "BUREAU_LOG_LEVEL": "debug",
    }.items():
        environment.setenv(name, value)
    settings = BureauSettings()
    assert (settings.grpc_listen, settings.metrics_address) == ("127.0.0.2:7000", ("127.0.0.2", 7001))
    assert settings.simulation().latency == 0.05
    assert settings.simulation().failure_rate == 0.25
    assert settings.fault_injection_enabled is True
    assert settings.deadlines().attempt_timeout == 0.2
    assert settings.deadlines().call_timeout == 0.9
    assert settings.deadlines().answer_margin == 0.01
    assert settings.retry_policy().max_attempts == 4
    assert (settings.retry_policy().base_delay, settings.retry_policy().max_delay) == (0.02, 0.2)
    assert settings.circuit_failure_threshold == 7
    assert settings.circuit_cool_down.total_seconds() == 2.5
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BUREAU_FAILURE_RATE", "1.5"),
        ("BUREAU_ATTEMPT_TIMEOUT_SECONDS", "5"),  # longer than the whole call
        ("BUREAU_CIRCUIT_FAILURE_THRESHOLD", "0"),
        ("BUREAU_CIRCUIT_COOL_DOWN_SECONDS", "0"),
        ("BUREAU_MAX_ATTEMPTS", "0"),
    ],
)
def test_nonsense_is_refused_at_start(environment, name, value):
    environment.setenv(name, value)
    with pytest.raises(ValidationError):
        BureauSettings()
