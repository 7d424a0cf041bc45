"""InjectFault and the circuit breakers through the RPCs: a server of its own per test, with fault
injection on, a low failure threshold and a short cool-down."""

import time
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from prometheus_client import REGISTRY, generate_latest

from globalcredit.bureau.v1 import bureau_service_pb2
from globalcredit.type.v1 import country_pb2
from svckit.errors import error_details
from svckit.testing.polling import eventually

COOL_DOWN = 0.3
FAULTY = {
    "fault_injection_enabled": True,
    "circuit_failure_threshold": 3,
    "circuit_cool_down_seconds": COOL_DOWN,
    "max_attempts": 3,
}
ES_APPROVE = "70000001F"


def faulty(**overrides):
    """FAULTY settings, with some changed."""
    return {**FAULTY, **overrides}


KIND = bureau_service_pb2


def report_request(document=ES_APPROVE, country=country_pb2.COUNTRY_ES):
    return bureau_service_pb2.GetCreditReportRequest(
        country=country, identity_document=document, consent_reference="consent-1"
    )


def fault(kind, country=country_pb2.COUNTRY_ES, **fields):
    return bureau_service_pb2.InjectFaultRequest(country=country, kind=kind, **fields)


def seconds(value):
    duration = Duration()
    duration.FromTimedelta(timedelta(seconds=value))
    return duration


async def circuit(client, country=country_pb2.COUNTRY_ES):
    response = await client.ListCircuits(bureau_service_pb2.ListCircuitsRequest())
    return next(c for c in response.circuits if c.country == country)


def gauge(country="ES", provider="ASNEF"):
    return REGISTRY.get_sample_value("bureau_circuit_state", {"country": country, "provider": provider})


def calls(outcome):
    value = REGISTRY.get_sample_value(
        "bureau_calls_total", {"country": "ES", "provider": "ASNEF", "outcome": outcome}
    )
    return value or 0.0


async def test_an_injected_outage_gives_fallbacks_until_cleared(gateway_server):
    async with gateway_server(**faulty(circuit_failure_threshold=100)) as running:
        admin, scoring = running.client("admin"), running.client("service")
        response = await admin.InjectFault(fault(KIND.FAULT_KIND_OUTAGE))
        assert not response.HasField("expire_time")
        assert (await scoring.GetCreditReport(report_request())).credit_report.fallback
        assert not (
            await scoring.GetCreditReport(report_request("100000010", country_pb2.COUNTRY_PT))
        ).credit_report.fallback
        await admin.InjectFault(fault(KIND.FAULT_KIND_NONE))
        assert not (await scoring.GetCreditReport(report_request())).credit_report.fallback


async def test_transient_failures_are_retried_the_configured_number_of_times(gateway_server):
    async with gateway_server(**faulty(circuit_failure_threshold=100, max_attempts=4)) as running:
        await running.client("service").InjectFault(fault(KIND.FAULT_KIND_OUTAGE))
        unavailable = calls("unavailable")
        await running.client("service").GetCreditReport(report_request())
        assert calls("unavailable") == unavailable + 4


async def test_an_injected_timeout_ends_in_a_fallback_within_the_deadline(gateway_server):
    async with gateway_server(**faulty(circuit_failure_threshold=100)) as running:
        await running.client("admin").InjectFault(fault(KIND.FAULT_KIND_TIMEOUT))
        timeouts = calls("timeout")
        started = time.monotonic()
        response = await running.client("service").GetCreditReport(report_request(), timeout=2.0)
        assert response.credit_report.fallback
        assert time.monotonic() - started < 1.0 + 0.5
        assert calls("timeout") == timeouts + 3


async def test_a_fault_with_a_duration_says_when_it_ends_and_then_ends(gateway_server):
    async with gateway_server(**faulty(circuit_failure_threshold=100)) as running:
        before = datetime.now(UTC)
        response = await running.client("admin").InjectFault(
            fault(KIND.FAULT_KIND_OUTAGE, duration=seconds(0.3))
        )
        expire_time = response.expire_time.ToDatetime(tzinfo=UTC)
        assert before + timedelta(seconds=0.3) <= expire_time <= datetime.now(UTC) + timedelta(seconds=0.3)
        scoring = running.client("service")
        assert (await scoring.GetCreditReport(report_request())).credit_report.fallback

        async def answered():
            return not (await scoring.GetCreditReport(report_request())).credit_report.fallback

        await eventually(answered, within=3.0)


async def test_a_flaky_fault_fails_its_share_and_slows_every_call(gateway_server):
    async with gateway_server(**faulty(circuit_failure_threshold=100, max_attempts=1)) as running:
        admin, scoring = running.client("admin"), running.client("service")
        await admin.InjectFault(fault(KIND.FAULT_KIND_FLAKY, failure_rate="1"))
        assert (await scoring.GetCreditReport(report_request())).credit_report.fallback
        await admin.InjectFault(fault(KIND.FAULT_KIND_FLAKY, failure_rate="0", added_latency=seconds(0.05)))
        started = time.monotonic()
        assert not (await scoring.GetCreditReport(report_request())).credit_report.fallback
        assert time.monotonic() - started >= 0.05


@pytest.mark.parametrize(
    ("request_fields", "field", "reason"),
    [
        ({"kind": KIND.FAULT_KIND_OUTAGE}, "country", "COUNTRY_REQUIRED"),
        ({"country": country_pb2.COUNTRY_ES}, "kind", "FAULT_KIND_REQUIRED"),
        (
            {"country": country_pb2.COUNTRY_ES, "kind": KIND.FAULT_KIND_FLAKY},
            "failure_rate",
            "FAILURE_RATE_REQUIRED",
        ),
        (
            {"country": country_pb2.COUNTRY_ES, "kind": KIND.FAULT_KIND_FLAKY, "failure_rate": "1.5"},
            "failure_rate",
            "FAILURE_RATE_INVALID",
        ),
        (
            {"country": country_pb2.COUNTRY_ES, "kind": KIND.FAULT_KIND_FLAKY, "failure_rate": "half"},
            "failure_rate",
            "FAILURE_RATE_INVALID",
        ),
        (
            {"country": country_pb2.COUNTRY_ES, "kind": KIND.FAULT_KIND_OUTAGE, "duration": seconds(-1)},
            "duration",
            "DURATION_OUT_OF_RANGE",
        ),
        (
            {
                "country": country_pb2.COUNTRY_ES,
                "kind": KIND.FAULT_KIND_OUTAGE,
                "added_latency": seconds(120),
            },
            "added_latency",
            "ADDED_LATENCY_OUT_OF_RANGE",
        ),
    ],
)
async def test_a_bad_fault_is_invalid_and_named(gateway_server, request_fields, field, reason):
    async with gateway_server(**faulty()) as running:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await running.client("admin").InjectFault(bureau_service_pb2.InjectFaultRequest(**request_fields))
        details = error_details(caught.value)
        assert details.code == grpc.StatusCode.INVALID_ARGUMENT
        assert [(v.field, v.reason) for v in details.violations] == [(field, reason)]


async def test_the_circuit_opens_half_opens_and_closes_through_the_rpcs(gateway_server):
    async with gateway_server(**faulty()) as running:
        admin, scoring = running.client("admin"), running.client("service")
        await admin.InjectFault(fault(KIND.FAULT_KIND_OUTAGE))

        # Three attempts of one call: three consecutive failures, and the circuit opens.
        assert (await scoring.GetCreditReport(report_request())).credit_report.fallback
        opened = await circuit(admin)
        assert (opened.state, opened.consecutive_failures) == (KIND.CIRCUIT_STATE_OPEN, 3)
        assert gauge() == 2
        assert 'bureau_circuit_state{country="ES",provider="ASNEF"} 2.0' in generate_latest(REGISTRY).decode()
        others = (await admin.ListCircuits(bureau_service_pb2.ListCircuitsRequest())).circuits
        assert [c.state for c in others if c.country != country_pb2.COUNTRY_ES] == [
            KIND.CIRCUIT_STATE_CLOSED
        ] * 5

        # The bureau is back, but while the circuit is open nobody calls it.
        await admin.InjectFault(fault(KIND.FAULT_KIND_NONE))
        attempts_before = calls("ok") + calls("unavailable")
        fallbacks = calls("fallback")
        assert (await scoring.GetCreditReport(report_request())).credit_report.fallback
        assert calls("ok") + calls("unavailable") == attempts_before
        assert calls("fallback") == fallbacks + 1

        # After the cool-down it reads half-open, in the listing and the gauge, before any call.
        async def half_open():
            return (await circuit(admin)).state == KIND.CIRCUIT_STATE_HALF_OPEN

        await eventually(half_open, within=3.0)
        assert gauge() == 1
        half = await circuit(admin)
        assert half.state_change_time.ToDatetime() >= opened.state_change_time.ToDatetime()

        # A successful trial closes it.
        response = await scoring.GetCreditReport(report_request())
        assert not response.credit_report.fallback
        closed = await circuit(admin)
        assert (closed.state, closed.consecutive_failures) == (KIND.CIRCUIT_STATE_CLOSED, 0)
        assert gauge() == 0


async def test_a_failed_trial_opens_the_circuit_again(gateway_server):
    async with gateway_server(**faulty()) as running:
        admin, scoring = running.client("admin"), running.client("service")
        await admin.InjectFault(fault(KIND.FAULT_KIND_OUTAGE))
        await scoring.GetCreditReport(report_request())
        first_open = (await circuit(admin)).state_change_time.ToDatetime()

        async def half_open():
            return (await circuit(admin)).state == KIND.CIRCUIT_STATE_HALF_OPEN

        await eventually(half_open, within=3.0)
        unavailable = calls("unavailable")
        assert (await scoring.GetCreditReport(report_request())).credit_report.fallback
        assert calls("unavailable") == unavailable + 1  # the trial, and no retry
        reopened = await circuit(admin)
        assert (reopened.state, reopened.consecutive_failures) == (KIND.CIRCUIT_STATE_OPEN, 4)
        assert reopened.state_change_time.ToDatetime() > first_open
        assert gauge() == 2
