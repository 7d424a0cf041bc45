"""Deliveries through the shim, on a free port, into a real intake (PostgreSQL, NATS)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from intake_workflow import Workflow
from prometheus_client import REGISTRY
from webhook_shim_testkit import (
    Answer,
    Bank,
    JsonLogs,
    ShimFactory,
    Snapshotter,
    confirmation,
    new_webhook_id,
)

from globalcredit.intake.v1 import application_pb2, intake_service_pb2, intake_service_pb2_grpc
from svckit.local.ports import free_port
from webhook_shim.app import WebhookShim
from webhook_shim.routes import MAX_BODY_BYTES
from webhook_shim.signatures import WebhookSecret

S = application_pb2
Approved = Callable[[], Awaitable[application_pb2.Application]]


def deliveries(outcome: str) -> float:
    return REGISTRY.get_sample_value("webhook_deliveries_total", {"outcome": outcome}) or 0.0


async def application(
    analyst: intake_service_pb2_grpc.IntakeServiceStub, name: str
) -> application_pb2.Application:
    return (await analyst.GetApplication(intake_service_pb2.GetApplicationRequest(name=name))).application


# Applied once ---------------------------------------------------------------------------------------------


async def test_a_verified_disbursement_completes_an_approved_application(
    bank: Bank, approved: Approved, analyst: intake_service_pb2_grpc.IntakeServiceStub
) -> None:
    app = await approved()
    webhook_id = new_webhook_id()
    accepted = deliveries("accepted")

    answer = await bank.deliver(confirmation(app.name, amount="12000.00"), webhook_id=webhook_id)

    assert answer.status == 200
    assert answer.body == {
        "application": app.name,
        "status": "APPLICATION_STATUS_COMPLETED",
        "webhook_id": webhook_id,
    }
    stored = await application(analyst, app.name)
    assert stored.status == S.APPLICATION_STATUS_COMPLETED
    (recorded,) = stored.bank_confirmations
    assert (recorded.webhook_id, recorded.bank_reference) == (webhook_id, "BANK-REF-0001")
    assert (recorded.identity_verified, recorded.disbursed) == (True, True)
    assert (recorded.amount_disbursed.currency_code, recorded.amount_disbursed.amount) == ("EUR", "12000.00")
    assert deliveries("accepted") == accepted + 1


async def test_an_unverified_identity_cancels_an_approved_application(
    bank: Bank, approved: Approved, analyst: intake_service_pb2_grpc.IntakeServiceStub
) -> None:
    app = await approved()
    answer = await bank.deliver(confirmation(app.name, verified=False, disbursed=False))
    assert (answer.status, answer.body["status"]) == (200, "APPLICATION_STATUS_CANCELLED")
    assert (await application(analyst, app.name)).status == S.APPLICATION_STATUS_CANCELLED


async def test_an_unverified_identity_rejects_an_application_under_review(
    bank: Bank, workflow: Workflow, analyst: intake_service_pb2_grpc.IntakeServiceStub
) -> None:
    app = await workflow.application_in(S.APPLICATION_STATUS_UNDER_REVIEW)
    bare_id = app.name.removeprefix("applications/")
    answer = await bank.deliver(confirmation(bare_id, verified=False, disbursed=False))
    assert (answer.status, answer.body["status"]) == (200, "APPLICATION_STATUS_REJECTED")
    assert (await application(analyst, app.name)).status == S.APPLICATION_STATUS_REJECTED


async def test_a_redelivery_answers_200_and_changes_nothing(
    bank: Bank, approved: Approved, snapshot: Snapshotter
) -> None:
    app = await approved()
    webhook_id = new_webhook_id()
    payload = confirmation(app.name)
    first = await bank.deliver(payload, webhook_id=webhook_id)
    after_first = await snapshot(app.name)

    # A bank retries with the same id and body, signed anew with a later timestamp.
    again = await bank.deliver(payload, webhook_id=webhook_id, timestamp=int(time.time()) + 2)

    assert (first.status, again.status) == (200, 200)
    assert again.body == first.body
    assert await snapshot(app.name) == after_first
    assert after_first.confirmations == 1


async def test_a_webhook_id_reused_for_another_payload_is_a_conflict(
    bank: Bank, approved: Approved, snapshot: Snapshotter
) -> None:
    app = await approved()
    webhook_id = new_webhook_id()
    await bank.deliver(confirmation(app.name, verified=True, disbursed=False), webhook_id=webhook_id)
    before = await snapshot(app.name)

    answer = await bank.deliver(confirmation(app.name, bank_reference="OTHER"), webhook_id=webhook_id)

    assert (answer.status, answer.reason) == (409, "WEBHOOK_ID_REUSED")
    assert await snapshot(app.name) == before


# Refused, and nothing changes ------------------------------------------------------------------------------

STRANGER = WebhookSecret.generate()


def _flip_last_byte(headers: dict[str, str]) -> dict[str, str]:
    import base64

    signature = bytearray(base64.b64decode(headers["webhook-signature"].removeprefix("v1,")))
    signature[-1] ^= 0x01
    return {**headers, "webhook-signature": "v1," + base64.b64encode(bytes(signature)).decode()}


def _without(name: str) -> Callable[[dict[str, str]], dict[str, str]]:
    return lambda headers: {key: value for key, value in headers.items() if key != name}


Case = tuple[int, str, str]  # status, reason, outcome

HEADER_CASES: dict[str, tuple[Callable[[dict[str, str]], dict[str, str]], Case]] = {
    "signature from an unknown secret": (
        lambda h: {
            **h,
            "webhook-signature": STRANGER.signature(h["webhook-id"], h["webhook-timestamp"], b"{}"),
        },
        (401, "WEBHOOK_SIGNATURE_MISMATCH", "bad_signature"),
    ),
    "signature differing in the last byte": (
        _flip_last_byte,
        (401, "WEBHOOK_SIGNATURE_MISMATCH", "bad_signature"),
    ),
    "signature for another webhook id": (
        lambda h: {**h, "webhook-id": new_webhook_id()},
        (401, "WEBHOOK_SIGNATURE_MISMATCH", "bad_signature"),
    ),
    "no webhook-id": (_without("webhook-id"), (401, "WEBHOOK_HEADERS_MISSING", "bad_headers")),
    "no webhook-timestamp": (_without("webhook-timestamp"), (401, "WEBHOOK_HEADERS_MISSING", "bad_headers")),
    "no webhook-signature": (_without("webhook-signature"), (401, "WEBHOOK_HEADERS_MISSING", "bad_headers")),
    "timestamp not a number": (
        lambda h: {**h, "webhook-timestamp": "yesterday"},
        (401, "WEBHOOK_HEADERS_MALFORMED", "bad_headers"),
    ),
}


@pytest.mark.parametrize("case", list(HEADER_CASES), ids=list(HEADER_CASES))
async def test_a_delivery_without_a_valid_signature_is_refused(
    case: str, bank: Bank, approved: Approved, snapshot: Snapshotter
) -> None:
    change, (status, reason, outcome) = HEADER_CASES[case]
    app = await approved()
    before = await snapshot(app.name)
    counted = deliveries(outcome)
    body = json.dumps(confirmation(app.name)).encode()

    answer = await bank.post(body, change(bank.headers(body)))

    assert (answer.status, answer.reason) == (status, reason)
    assert await snapshot(app.name) == before
    assert deliveries(outcome) == counted + 1


@pytest.mark.parametrize("seconds", [-301, 301, -86_400], ids=["stale", "future", "a day old"])
async def test_a_timestamp_more_than_five_minutes_away_is_refused(
    seconds: int, bank: Bank, approved: Approved, snapshot: Snapshotter
) -> None:
    app = await approved()
    before = await snapshot(app.name)
    answer = await bank.deliver(confirmation(app.name), timestamp=int(time.time()) + seconds)
    assert (answer.status, answer.reason) == (401, "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE")
    assert await snapshot(app.name) == before


def _amount_as_number(name: str) -> bytes:
    payload = confirmation(name)
    payload["amount_disbursed"]["amount"] = 12000.00
    return json.dumps(payload).encode()


def _with(**changes: Any) -> Callable[[str], bytes]:
    return lambda name: json.dumps({**confirmation(name), **changes}).encode()


BODY_CASES: dict[str, tuple[Callable[[str], bytes], int, str, list[str]]] = {
    "malformed JSON": (lambda name: b'{"application": "' + name.encode(), 400, "MALFORMED_JSON", []),
    "money as a JSON number": (_amount_as_number, 400, "INVALID_FIELDS", ["amount_disbursed.amount"]),
    "a bad field": (_with(identity_verified="yes"), 400, "INVALID_FIELDS", ["identity_verified"]),
    "an unknown field": (_with(priority="high"), 400, "INVALID_FIELDS", ["priority"]),
    "another currency (refused by intake)": (
        _with(amount_disbursed={"currency_code": "USD", "amount": "12000.00"}),
        400,
        "INVALID_APPLICATION",
        ["amount_disbursed.currency_code"],
    ),
}


@pytest.mark.parametrize("case", list(BODY_CASES), ids=list(BODY_CASES))
async def test_a_signed_but_invalid_body_is_refused_naming_the_field(
    case: str, bank: Bank, approved: Approved, snapshot: Snapshotter
) -> None:
    make_body, status, reason, fields = BODY_CASES[case]
    app = await approved()
    before = await snapshot(app.name)
    invalid = deliveries("invalid")

    answer = await bank.deliver(make_body(app.name))

    assert (answer.status, answer.reason) == (status, reason)
    assert answer.violated_fields == fields
    assert await snapshot(app.name) == before
    assert deliveries("invalid") == invalid + 1


async def test_an_unknown_application_is_404(bank: Bank) -> None:
    answer = await bank.deliver(confirmation(f"applications/{uuid.uuid4()}"))
    assert (answer.status, answer.reason) == (404, "APPLICATION_NOT_FOUND")


async def test_a_body_announced_over_1_mib_is_refused_unread(
    bank: Bank, approved: Approved, snapshot: Snapshotter
) -> None:
    app = await approved()
    before = await snapshot(app.name)
    body = json.dumps({**confirmation(app.name), "padding": "x" * MAX_BODY_BYTES}).encode()
    answer = await bank.post(body, bank.headers(body))
    assert (answer.status, answer.reason) == (413, "PAYLOAD_TOO_LARGE")
    assert await snapshot(app.name) == before


async def test_a_chunked_body_over_1_mib_is_cut_off_while_read(bank: Bank, approved: Approved) -> None:
    app = await approved()
    body = json.dumps({**confirmation(app.name), "padding": "x" * MAX_BODY_BYTES}).encode()
    too_large = deliveries("too_large")

    async def chunks() -> Any:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    answer = await bank.post(chunks(), bank.headers(body))

    assert (answer.status, answer.reason) == (413, "PAYLOAD_TOO_LARGE")
    assert deliveries("too_large") == too_large + 1


async def test_a_body_of_exactly_1_mib_is_read(bank: Bank, approved: Approved) -> None:
    app = await approved()
    document = json.dumps(confirmation(app.name))
    body = (document + " " * (MAX_BODY_BYTES - len(document))).encode()  # JSON allows trailing blanks
    assert len(body) == MAX_BODY_BYTES
    assert (await bank.deliver(body)).status == 200


# Secret rotation -------------------------------------------------------------------------------------------


async def test_during_a_rotation_either_secret_is_accepted_and_neither_refused(
    start_shim: ShimFactory, http: aiohttp.ClientSession, approved: Approved
) -> None:
    old, new = WebhookSecret.generate(), WebhookSecret.generate()
    shim = await start_shim(secrets=f"{old.encoded()},{new.encoded()}")
    bank = Bank(http, shim.webhook_url, [])

    signed_old = await bank.deliver(confirmation((await approved()).name), secrets=[old])
    signed_new = await bank.deliver(confirmation((await approved()).name), secrets=[new])
    signed_both = await bank.deliver(confirmation((await approved()).name), secrets=[STRANGER, new])
    signed_neither = await bank.deliver(confirmation((await approved()).name), secrets=[STRANGER])

    assert [signed_old.status, signed_new.status, signed_both.status] == [200, 200, 200]
    assert (signed_neither.status, signed_neither.reason) == (401, "WEBHOOK_SIGNATURE_MISMATCH")


# Intake unreachable ----------------------------------------------------------------------------------------


async def test_intake_down_is_503_with_retry_after(
    start_shim: ShimFactory, http: aiohttp.ClientSession, secret: WebhookSecret
) -> None:
    shim = await start_shim(intake_address=f"127.0.0.1:{free_port()}", retry_after_seconds=7)
    unavailable = deliveries("intake_unavailable")

    bank = Bank(http, shim.webhook_url, [secret])
    answer = await bank.deliver(confirmation(f"applications/{uuid.uuid4()}"))

    assert (answer.status, answer.reason) == (503, "INTAKE_UNAVAILABLE")
    assert answer.headers["retry-after"] == "7"
    assert deliveries("intake_unavailable") == unavailable + 1


# Observability ---------------------------------------------------------------------------------------------


async def test_the_request_id_and_trace_reach_intake(
    bank: Bank, approved: Approved, json_logs: JsonLogs
) -> None:
    app = await approved()
    trace_id = uuid.uuid4().hex
    request_id = f"req-{uuid.uuid4().hex[:12]}"

    answer = await bank.deliver(
        confirmation(app.name),
        extra_headers={"x-request-id": request_id, "traceparent": f"00-{trace_id}-{'1' * 16}-01"},
    )

    assert answer.status == 200
    assert answer.headers["x-request-id"] == request_id
    lines = json_logs.lines()
    (delivery,) = [line for line in lines if line["message"] == "webhook delivery"]
    assert (delivery["trace_id"], delivery["request_id"]) == (trace_id, request_id)
    assert (delivery["outcome"], delivery["application"]) == ("accepted", app.name)
    (rpc,) = [line for line in lines if line.get("grpc_method", "").endswith("/RecordBankConfirmation")]
    assert (rpc["trace_id"], rpc["request_id"], rpc["subject"]) == (trace_id, request_id, "webhook-shim")


async def test_a_request_without_an_id_gets_one(bank: Bank, approved: Approved) -> None:
    answer = await bank.deliver(confirmation((await approved()).name))
    assert len(answer.headers["x-request-id"]) >= 16


async def test_logs_never_hold_the_secret_a_signature_or_the_body(
    bank: Bank, secret: WebhookSecret, approved: Approved, json_logs: JsonLogs
) -> None:
    app = await approved()
    marker = f"body-marker-{uuid.uuid4().hex}"
    signatures: list[str] = []

    async def deliver(payload: dict[str, Any] | bytes, **kwargs: Any) -> Answer:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = bank.headers(body, **kwargs)
        signatures.append(headers["webhook-signature"].removeprefix("v1,"))
        return await bank.post(body, headers)

    statuses = [
        (await deliver({**confirmation(app.name), "note": marker})).status,  # unknown field
        (await deliver(b'{"broken": "' + marker.encode())).status,
        (await deliver({**confirmation(app.name), "bank_reference": marker}, secrets=[STRANGER])).status,
        (await deliver(confirmation(app.name, amount="98765.43"))).status,
    ]

    assert statuses == [400, 400, 401, 200]
    text = json_logs.text
    assert "webhook delivery" in text
    assert app.name in text  # identifiers are logged, payloads are not
    key = secret.encoded().removeprefix("whsec_")
    for forbidden in [key, marker, "98765.43", *signatures]:
        assert forbidden not in text


# Health and shutdown ---------------------------------------------------------------------------------------


async def test_health_is_200_while_serving_then_503_while_draining(
    shim: WebhookShim, http: aiohttp.ClientSession, bank: Bank, approved: Approved
) -> None:
    async with http.get(shim.health_url) as response:
        assert (response.status, await response.json()) == (200, {"status": "SERVING"})

    shim.start_draining()

    async with http.get(shim.health_url) as response:
        assert (response.status, await response.json()) == (503, {"status": "NOT_SERVING"})
    # Draining is the time for load balancers to notice; deliveries that still come are taken.
    assert (await bank.deliver(confirmation((await approved()).name))).status == 200
