"""Scoring's settings, from the environment (`SCORING_*`, plus the shared `NATS_URL`, `AUTH_*`,
`SERVICE_TOKEN_FILE`/`SERVICE_TOKEN` and `OTEL_EXPORTER_OTLP_ENDPOINT`)."""

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from svckit.settings import CallerSettings, NatsSettings, ServiceSettings


class ScoringSettings(ServiceSettings, NatsSettings, CallerSettings):
    model_config = SettingsConfigDict(env_prefix="SCORING_", extra="ignore", validate_by_name=True)

    grpc_listen: str = Field(default="127.0.0.1:50052", description="host:port the gRPC server binds.")
    metrics_listen: str = Field(default="127.0.0.1:9102", description="host:port of /metrics.")

    intake_address: str = Field(default="127.0.0.1:50051", description="host:port of intake's gRPC.")
    bureau_address: str = Field(default="127.0.0.1:50053", description="host:port of bureau-gateway's gRPC.")
    call_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Deadline of each call to intake or bureau-gateway."
    )
    worker_concurrency: int = Field(default=32, ge=1, description="Jobs one replica works on at once.")
    max_deliveries: int = Field(
        default=8, ge=1, description="Deliveries of a job before it is dead-lettered (transient failures)."
    )
    retry_initial_seconds: float = Field(default=0.5, gt=0, description="First retry delay; doubles.")
    retry_max_seconds: float = Field(default=30.0, gt=0, description="Longest retry delay.")
    ack_wait_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How long JetStream waits for a job's ack before giving it to another replica (a replica "
        "that died mid-job).",
    )

    @property
    def ack_wait(self) -> timedelta:
        return timedelta(seconds=self.ack_wait_seconds)
