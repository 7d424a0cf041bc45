"""Settings from the environment: the service's prefix for its own, plain names for shared ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from svckit.settings import DatabaseSettings, NatsSettings, ServiceSettings, split_host_port

JWKS = '{"keys": []}'


class ExampleSettings(ServiceSettings, DatabaseSettings, NatsSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "AUTH_JWKS",
        "AUTH_JWKS_PATH",
        "AUTH_ISSUER",
        "AUTH_AUDIENCE",
        "DATABASE_URL",
        "NATS_URL",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "GRPC_LISTEN",
        "LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTH_JWKS", JWKS)
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:secret@db:5432/app")
    monkeypatch.setenv("NATS_URL", "nats://a:4222, nats://b:4222")
    return monkeypatch


def test_defaults(env: pytest.MonkeyPatch) -> None:
    settings = ExampleSettings()

    assert settings.grpc_listen == "127.0.0.1:50051"
    assert settings.metrics_address == ("127.0.0.1", 9100)
    assert settings.log_level == "INFO"
    assert settings.shutdown_grace_seconds == 10
    assert settings.otel_exporter_otlp_endpoint is None
    assert (settings.auth_issuer, settings.auth_audience) == ("globalcredit-dev", "globalcredit")
    assert settings.database_pool_size == 20


def test_own_settings_use_the_prefix_and_shared_ones_do_not(env: pytest.MonkeyPatch) -> None:
    env.setenv("EXAMPLE_GRPC_LISTEN", "0.0.0.0:7000")
    env.setenv("GRPC_LISTEN", "10.0.0.1:1")  # unprefixed: someone else's
    env.setenv("EXAMPLE_LOG_LEVEL", "debug")
    env.setenv("EXAMPLE_DATABASE_POOL_SIZE", "4")
    env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")
    env.setenv("AUTH_ISSUER", "idp")
    env.setenv("AUTH_AUDIENCE", "api")

    settings = ExampleSettings()

    assert settings.grpc_listen == "0.0.0.0:7000"
    assert settings.log_level == "DEBUG"
    assert settings.database_pool_size == 4
    assert settings.otel_exporter_otlp_endpoint == "http://collector:4317"
    assert (settings.auth_issuer, settings.auth_audience) == ("idp", "api")
    assert settings.database_url == "postgresql://app:secret@db:5432/app"
    assert settings.nats_servers == ["nats://a:4222", "nats://b:4222"]


def test_the_database_password_stays_out_of_repr(env: pytest.MonkeyPatch) -> None:
    assert "secret" not in repr(ExampleSettings())


def test_a_jwks_is_required(env: pytest.MonkeyPatch) -> None:
    env.delenv("AUTH_JWKS")

    with pytest.raises(ValidationError, match="AUTH_JWKS"):
        ExampleSettings()


def test_the_jwks_may_come_from_a_file(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{"kid": "k"}]}))
    env.delenv("AUTH_JWKS")
    env.setenv("AUTH_JWKS_PATH", str(path))

    assert ExampleSettings().jwks() == {"keys": [{"kid": "k"}]}


def test_settings_can_be_passed_by_field_name(env: pytest.MonkeyPatch) -> None:
    settings = ExampleSettings(otel_exporter_otlp_endpoint="http://x:4317", auth_jwks_json=JWKS)

    assert settings.otel_exporter_otlp_endpoint == "http://x:4317"
    assert settings.jwks() == {"keys": []}


@pytest.mark.parametrize(
    ("name", "value"), [("EXAMPLE_LOG_LEVEL", "chatty"), ("EXAMPLE_GRPC_LISTEN", "nohost")]
)
def test_bad_values_are_refused(env: pytest.MonkeyPatch, name: str, value: str) -> None:
    env.setenv(name, value)

    with pytest.raises(ValidationError):
        ExampleSettings()


def test_shared_urls_are_required_by_their_mixins(env: pytest.MonkeyPatch) -> None:
    env.delenv("DATABASE_URL")

    with pytest.raises(ValidationError, match="DATABASE_URL"):
        ExampleSettings()


@pytest.mark.parametrize(
    ("address", "expected"),
    [("127.0.0.1:9100", ("127.0.0.1", 9100)), ("[::1]:0", ("::1", 0)), ("0.0.0.0:50051", ("0.0.0.0", 50051))],  # noqa: S104
)
def test_split_host_port(address: str, expected: tuple[str, int]) -> None:
    assert split_host_port(address) == expected
