"""The shim's settings, from the environment: `WEBHOOK_SHIM_*`, plus the shared `SERVICE_TOKEN_FILE` or
`SERVICE_TOKEN` (its identity towards intake) and `OTEL_EXPORTER_OTLP_ENDPOINT`."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from svckit.settings import CallerSettings, split_host_port
from webhook_shim.signatures import WebhookSecret, parse_secrets


class WebhookShimSettings(CallerSettings):
    # hide_input_in_errors: a rejected WEBHOOK_SHIM_SECRETS must not be printed in the start-up error.
    model_config = SettingsConfigDict(
        env_prefix="WEBHOOK_SHIM_", extra="ignore", validate_by_name=True, hide_input_in_errors=True
    )

    secrets: SecretStr = Field(
        description="The banks' shared secrets, `whsec_<base64>`, comma-separated; a delivery signed with "
        "any of them is accepted, so a new secret can be added before the old one is removed.",
    )
    http_listen: str = Field(
        default="127.0.0.1:8090",
        description="host:port of the webhook endpoint and /healthz; port 0 picks a free port.",
    )
    metrics_listen: str = Field(
        default="127.0.0.1:9105",
        description="host:port of the Prometheus /metrics endpoint; port 0 picks a free port.",
    )
    intake_address: str = Field(default="127.0.0.1:50051", description="intake's gRPC host:port.")
    intake_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Deadline of the RecordBankConfirmation call."
    )
    timestamp_tolerance_seconds: int = Field(
        default=300,
        ge=1,
        description="How far `webhook-timestamp` may be from now, either way (replay protection).",
    )
    retry_after_seconds: int = Field(
        default=30, ge=1, description="`Retry-After` on a 503, when intake cannot be reached."
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL.")
    shutdown_drain_seconds: float = Field(
        default=0.0,
        ge=0,
        description="On SIGTERM, how long to keep serving while /healthz answers 503, so load balancers "
        "stop routing here first (a few seconds on Kubernetes).",
    )
    shutdown_grace_seconds: float = Field(
        default=10.0,
        ge=0,
        description="After the drain, how long in-flight deliveries may run before they are cancelled.",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT",
        description="OTLP/gRPC collector (http://host:4317); unset exports no spans.",
    )

    @field_validator("secrets")
    @classmethod
    def _secrets_parse(cls, value: SecretStr) -> SecretStr:
        parse_secrets(value.get_secret_value())  # fail at start-up, not on the first delivery
        return value

    @field_validator("http_listen", "metrics_listen", "intake_address")
    @classmethod
    def _host_port(cls, value: str) -> str:
        split_host_port(value)
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    @property
    def http_address(self) -> tuple[str, int]:
        return split_host_port(self.http_listen)

    @property
    def metrics_address(self) -> tuple[str, int]:
        return split_host_port(self.metrics_listen)

    def webhook_secrets(self) -> tuple[WebhookSecret, ...]:
        return parse_secrets(self.secrets.get_secret_value())
