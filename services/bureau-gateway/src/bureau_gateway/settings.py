"""bureau-gateway's settings, from the environment (`BUREAU_*`, plus the shared `AUTH_*` and
`OTEL_EXPORTER_OTLP_ENDPOINT`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from bureau_gateway.gateway import Deadlines
from bureau_gateway.retry import RetryPolicy
from bureau_gateway.simulation import SimulationSettings
from svckit.settings import ServiceSettings


class BureauSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BUREAU_", extra="ignore", validate_by_name=True)

    # Other defaults than svckit's, so that it runs beside intake on one machine without settings.
    grpc_listen: str = Field(
        default="127.0.0.1:50053",
        description="host:port the gRPC server binds; port 0 picks a free port.",
    )
    metrics_listen: str = Field(
        default="127.0.0.1:9103",
        description="host:port of the Prometheus /metrics endpoint; port 0 picks a free port.",
    )

    latency_seconds: float = Field(
        default=0.015, ge=0, le=10, description="Least time a simulated bureau takes to answer."
    )
    latency_jitter_seconds: float = Field(
        default=0.010, ge=0, le=10, description="Up to this much more, uniformly (mean 20 ms by default)."
    )
    failure_rate: float = Field(
        default=0.0, ge=0, le=1, description="Share of simulated calls that fail transiently."
    )
    fault_injection_enabled: bool = Field(
        default=False, description="Allow InjectFault. Never in production."
    )

    attempt_timeout_seconds: float = Field(default=0.3, gt=0, le=30, description="Deadline of one attempt.")
    call_timeout_seconds: float = Field(
        default=1.5,
        gt=0,
        le=60,
        description="Deadline of a whole call, retries included; never beyond the caller's own deadline.",
    )
    answer_margin_seconds: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="Kept back from the caller's deadline to send the answer (a fallback, say) in time.",
    )
    max_attempts: int = Field(default=3, ge=1, le=10, description="Attempts per call, the first included.")
    backoff_base_seconds: float = Field(
        default=0.05, ge=0, le=10, description="Cap of the first backoff; doubles after each retry."
    )
    backoff_max_seconds: float = Field(default=0.5, ge=0, le=60, description="Cap of any backoff.")

    circuit_failure_threshold: int = Field(
        default=5, ge=1, le=1000, description="Consecutive failures that open a circuit."
    )
    circuit_cool_down_seconds: float = Field(
        default=10.0, gt=0, le=3600, description="How long an open circuit stays open before a trial call."
    )

    @model_validator(mode="after")
    def _consistent_deadlines(self) -> Self:
        if self.attempt_timeout_seconds > self.call_timeout_seconds:
            raise ValueError("BUREAU_ATTEMPT_TIMEOUT_SECONDS must not exceed BUREAU_CALL_TIMEOUT_SECONDS")
        if self.backoff_base_seconds > self.backoff_max_seconds:
            raise ValueError("BUREAU_BACKOFF_BASE_SECONDS must not exceed BUREAU_BACKOFF_MAX_SECONDS")
        return self

    def simulation(self) -> SimulationSettings:
        return SimulationSettings(
            latency=self.latency_seconds,
            latency_jitter=self.latency_jitter_seconds,
            failure_rate=self.failure_rate,
        )

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            base_delay=self.backoff_base_seconds,
            max_delay=self.backoff_max_seconds,
        )

    def deadlines(self) -> Deadlines:
        return Deadlines(
            attempt_timeout=self.attempt_timeout_seconds,
            call_timeout=self.call_timeout_seconds,
            answer_margin=self.answer_margin_seconds,
        )

    @property
    def circuit_cool_down(self) -> timedelta:
        return timedelta(seconds=self.circuit_cool_down_seconds)
