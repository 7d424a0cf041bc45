"""`python -m webhook_shim send` and `new-secret`, for people trying the shim by hand."""

from __future__ import annotations

import pytest
from intake_workflow import Workflow

from globalcredit.intake.v1 import application_pb2, intake_service_pb2, intake_service_pb2_grpc
from webhook_shim import cli
from webhook_shim.app import WebhookShim
from webhook_shim.signatures import WebhookSecret

S = application_pb2


async def send(*argv: str) -> int:
    return await cli.send(cli.parser().parse_args(["send", *argv]))


async def status_of(analyst: intake_service_pb2_grpc.IntakeServiceStub, name: str) -> int:
    response = await analyst.GetApplication(intake_service_pb2.GetApplicationRequest(name=name))
    return response.application.status


async def test_send_signs_a_sample_that_completes_an_application(
    shim: WebhookShim,
    secret: WebhookSecret,
    workflow: Workflow,
    analyst: intake_service_pb2_grpc.IntakeServiceStub,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = await workflow.application_in(S.APPLICATION_STATUS_APPROVED)

    status = await send(
        "--url",
        shim.webhook_url,
        "--secret",
        secret.encoded(),
        "--application",
        app.name,
        "--amount",
        "12000.00",
    )

    assert status == 0
    assert "200 OK" in capsys.readouterr().out
    assert await status_of(analyst, app.name) == S.APPLICATION_STATUS_COMPLETED


async def test_send_takes_the_secret_from_the_environment_and_reports_a_refusal(
    shim: WebhookShim,
    secret: WebhookSecret,
    workflow: Workflow,
    analyst: intake_service_pb2_grpc.IntakeServiceStub,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBHOOK_SHIM_SECRETS", f"{secret.encoded()},{WebhookSecret.generate().encoded()}")
    app = await workflow.application_in(S.APPLICATION_STATUS_APPROVED)

    assert await send("--url", shim.webhook_url, "--application", app.name, "--not-verified") == 0
    assert await status_of(analyst, app.name) == S.APPLICATION_STATUS_CANCELLED
    capsys.readouterr()

    assert await send("--url", shim.webhook_url, "--application", "applications/nope") == 1
    assert "INVALID_FIELDS" in capsys.readouterr().out


async def test_send_without_a_secret_says_how_to_give_one(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEBHOOK_SHIM_SECRETS", raising=False)
    assert await send("--application", "applications/x") == 2
    assert "--secret" in capsys.readouterr().err


def test_new_secret_prints_a_usable_secret(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.new_secret() == 0
    WebhookSecret.parse(capsys.readouterr().out)
