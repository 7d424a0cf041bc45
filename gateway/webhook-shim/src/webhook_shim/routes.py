"""The HTTP side: `POST /webhooks/bank-confirmations` and `GET /healthz`, as an aiohttp application.

A delivery goes: size → headers → body (bounded) → signature and timestamp → JSON and fields → intake.
The signature is checked before the body is parsed, so nothing the bank did not sign is ever interpreted.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from aiohttp import web
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from svckit.context import REQUEST_ID_KEY, request_scope
from svckit.telemetry import extract_context
from webhook_shim import metrics, refusals
from webhook_shim.intake_client import IntakeClient, IntakeRefused, RecordedConfirmation
from webhook_shim.metrics import Outcome
from webhook_shim.payload import PayloadInvalid, parse_confirmation
from webhook_shim.refusals import Refusal
from webhook_shim.signatures import DeliveryRejected, SignatureVerifier, read_headers

WEBHOOK_PATH = "/webhooks/bank-confirmations"
HEALTH_PATH = "/healthz"
MAX_BODY_BYTES = 1024 * 1024  # SPEC §10

log = logging.getLogger(__name__)


@dataclass
class Health:
    """Serving until the shim starts draining; /healthz answers 503 from then on."""

    serving: bool = True


@dataclass
class _Delivery:
    """What the delivery's log line says about it, filled in as the checks pass. Never the body."""

    webhook_id: str = ""
    application: str = ""
    bank_reference: str = ""
    extra: dict[str, object] = field(default_factory=dict)


class BankConfirmations:
    """The webhook endpoint: verifies a delivery, then records it in intake."""

    def __init__(
        self,
        verifier: SignatureVerifier,
        intake: IntakeClient,
        *,
        retry_after_seconds: int,
        tracer: Tracer,
    ) -> None:
        self._verifier = verifier
        self._intake = intake
        self._retry_after = retry_after_seconds
        self._tracer = tracer

    async def handle(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        delivery = _Delivery()
        with (
            metrics.IN_FLIGHT.track_inprogress(),
            request_scope(request.headers.get(REQUEST_ID_KEY)) as request_id,
            self._tracer.start_as_current_span(
                f"POST {WEBHOOK_PATH}",
                context=extract_context(request.headers),
                kind=SpanKind.SERVER,
                attributes={"http.request.method": "POST", "http.route": WEBHOOK_PATH},
            ) as span,
        ):
            outcome, refusal, response = await self._answer(request, delivery)
            span.set_attribute("http.response.status_code", response.status)
            if response.status >= 500:
                span.set_status(Status(StatusCode.ERROR, outcome.value))
            seconds = time.perf_counter() - started
            metrics.record(outcome, seconds)
            _log_outcome(outcome, response.status, refusal, delivery, seconds)
            response.headers[REQUEST_ID_KEY] = request_id
            return response

    async def _answer(
        self, request: web.Request, delivery: _Delivery
    ) -> tuple[Outcome, Refusal | None, web.Response]:
        try:
            recorded = await self._record(request, delivery)
        except Refusal as refusal:
            return refusal.outcome, refusal, _refused(refusal)
        except Exception:
            log.exception("delivery failed", extra=_log_fields(delivery))
            failure = refusals.internal()
            return failure.outcome, failure, _refused(failure)
        body = {
            "application": recorded.application,
            "status": recorded.status,
            "webhook_id": delivery.webhook_id,
        }
        return Outcome.ACCEPTED, None, web.json_response(body)

    async def _record(self, request: web.Request, delivery: _Delivery) -> RecordedConfirmation:
        """Check the delivery step by step and record it; a failed step raises its `Refusal`."""
        # Refuse an announced oversized body before reading a byte of it.
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise refusals.too_large(MAX_BODY_BYTES)
        try:
            headers = read_headers(request.headers)
            delivery.webhook_id = headers.webhook_id
            body = await _read_body(request)
            self._verifier.verify(headers, body)
        except DeliveryRejected as error:
            raise refusals.unauthenticated(error) from None
        try:
            confirmation = parse_confirmation(body)
        except PayloadInvalid as error:
            delivery.extra["violations"] = len(error.violations)
            raise refusals.invalid_payload(error) from None
        delivery.application = confirmation.application
        delivery.bank_reference = confirmation.bank_reference
        try:
            return await self._intake.record(confirmation, webhook_id=headers.webhook_id)
        except IntakeRefused as error:
            details = error.details
            delivery.extra["grpc_code"] = details.code.name
            if details.reason:
                delivery.extra["intake_reason"] = details.reason
            refusal = refusals.from_intake(details, retry_after=self._retry_after)
            if refusal.outcome is Outcome.INTAKE_ERROR:
                # Not passed on to the bank, so it must be here for an operator.
                delivery.extra["intake_message"] = details.message
            raise refusal from None


async def _read_body(request: web.Request) -> bytes:
    # A chunked body announces no length: the application's client_max_size stops it while it is read.
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise refusals.too_large(MAX_BODY_BYTES) from None


def _refused(refusal: Refusal) -> web.Response:
    return web.json_response(refusal.body(), status=refusal.status, headers=refusal.headers())


def _log_fields(delivery: _Delivery) -> dict[str, object]:
    fields: dict[str, object] = {
        "webhook_id": delivery.webhook_id,
        "application": delivery.application,
        "bank_reference": delivery.bank_reference,
    }
    fields.update(delivery.extra)
    return fields


def _log_outcome(
    outcome: Outcome, status: int, refusal: Refusal | None, delivery: _Delivery, seconds: float
) -> None:
    if status >= 500 and outcome is not Outcome.INTAKE_UNAVAILABLE:
        level = logging.ERROR
    elif status >= 400:
        level = logging.WARNING
    else:
        level = logging.INFO
    fields = _log_fields(delivery)
    fields.update(
        outcome=outcome.value,
        http_status=status,
        reason=refusal.reason if refusal is not None else "",
        duration_ms=round(seconds * 1000, 3),
    )
    log.log(level, "webhook delivery", extra=fields)


HEALTH = web.AppKey("health", Health)


async def health(request: web.Request) -> web.Response:
    state = request.app[HEALTH]
    if state.serving:
        return web.json_response({"status": "SERVING"})
    return web.json_response({"status": "NOT_SERVING"}, status=503)


def build_application(
    verifier: SignatureVerifier,
    intake: IntakeClient,
    health_state: Health,
    *,
    retry_after_seconds: int,
    tracer_provider: trace.TracerProvider | None = None,
) -> web.Application:
    """The aiohttp application; it refuses bodies over 1 MiB even when no length is announced."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[HEALTH] = health_state
    tracer = trace.get_tracer("webhook_shim", tracer_provider=tracer_provider)
    endpoint = BankConfirmations(verifier, intake, retry_after_seconds=retry_after_seconds, tracer=tracer)
    app.router.add_post(WEBHOOK_PATH, endpoint.handle)
    app.router.add_get(HEALTH_PATH, health)
    return app
