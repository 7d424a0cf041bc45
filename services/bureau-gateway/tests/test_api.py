"""BureauService through a real gRPC server: the sandbox identities, request checks, consent, roles
and the circuit listing."""

import time
from collections.abc import Awaitable

import grpc
import pytest
from bureau_gateway_harness import FAST

from bureau_gateway.bureaus import PROFILES
from bureau_gateway.sandbox import SANDBOX_IDENTITIES, Scenario
from globalcredit.bureau.v1 import bureau_service_pb2
from globalcredit.type.v1 import country_pb2
from svckit.errors import ErrorDetails, error_details

DOMAIN = "bureau.globalcredit.com"


async def refusal(call: Awaitable[object]) -> ErrorDetails:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return error_details(caught.value)


def report_request(country, document, consent="consent-0001"):
    return bureau_service_pb2.GetCreditReportRequest(
        country=country_pb2.Country.Value(f"COUNTRY_{country}"),
        identity_document=document,
        consent_reference=consent,
    )


@pytest.mark.parametrize("identity", SANDBOX_IDENTITIES, ids=lambda i: f"{i.country}-{i.scenario}")
async def test_each_sandbox_identity_gets_its_documented_answer(shared_gateway, identity):
    profile = PROFILES[identity.country]
    started = time.monotonic()
    response = await shared_gateway.client("service").GetCreditReport(
        report_request(identity.country.value, identity.document), timeout=3.0
    )
    elapsed = time.monotonic() - started
    report = response.credit_report
    assert report.provider == profile.provider
    assert report.total_debt.currency_code == report.monthly_obligations.currency_code == profile.currency
    assert report.HasField("report_time")
    if identity.scenario in (Scenario.TIMEOUT, Scenario.OUTAGE):
        assert report.fallback
        assert not report.HasField("credit_score")
        assert (report.total_debt.amount, report.monthly_obligations.amount) == ("0.00", "0.00")
        assert (report.has_defaults, report.account_age_months, report.report_id) == (False, 0, "")
        assert elapsed < FAST["call_timeout_seconds"] + 0.5
        return
    credit = identity.credit
    assert not report.fallback
    assert report.report_id.startswith(f"{profile.provider}-")
    assert report.HasField("credit_score") == (credit.credit_score is not None)
    if credit.credit_score is not None:
        assert report.credit_score == credit.credit_score
    assert report.total_debt.amount == f"{credit.total_debt:.2f}"
    assert report.monthly_obligations.amount == f"{credit.monthly_obligations:.2f}"
    assert (report.has_defaults, report.account_age_months) == (False, credit.account_age_months)


async def test_a_bureau_timeout_ends_in_a_fallback_before_the_callers_own_deadline(shared_gateway):
    started = time.monotonic()
    response = await shared_gateway.client("service").GetCreditReport(
        report_request("ES", "70000004X"), timeout=0.4
    )
    assert response.credit_report.fallback
    assert time.monotonic() - started < 0.4


async def test_the_same_document_in_any_written_form_gets_the_same_report(shared_gateway):
    client = shared_gateway.client("service")
    forms = ["700.000.001-59", "70000000159", " 700 000 001 59 "]
    reports = [(await client.GetCreditReport(report_request("BR", form))).credit_report for form in forms]
    assert {report.credit_score for report in reports} == {850}
    assert len({report.report_id for report in reports}) == 3  # each enquiry has its own id


async def test_any_document_gets_the_same_report_every_time(shared_gateway):
    client = shared_gateway.client("service")
    first, second = [
        (await client.GetCreditReport(report_request("CO", "52123456"))).credit_report for _ in range(2)
    ]
    for report in (first, second):
        report.ClearField("report_id")
        report.ClearField("report_time")
    assert first == second
    assert not first.fallback


@pytest.mark.parametrize("consent", ["", "   ", "\t\n"])
async def test_a_report_without_a_consent_reference_is_refused(shared_gateway, consent):
    details = await refusal(
        shared_gateway.client("service").GetCreditReport(report_request("MX", "SAAP850101HDFNNP09", consent))
    )
    assert (details.code, details.reason, details.domain) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "CONSENT_REQUIRED",
        DOMAIN,
    )
    assert "SAAP850101HDFNNP09" not in details.message


async def test_a_missing_country_is_invalid_and_named(shared_gateway):
    request = bureau_service_pb2.GetCreditReportRequest(
        identity_document="70000001F", consent_reference="consent-1"
    )
    details = await refusal(shared_gateway.client("service").GetCreditReport(request))
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.domain == DOMAIN
    assert [(v.field, v.reason) for v in details.violations] == [("country", "COUNTRY_REQUIRED")]


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("", "IDENTITY_DOCUMENT_REQUIRED"),
        (" -./ ", "IDENTITY_DOCUMENT_REQUIRED"),
        ("9" * 40, "IDENTITY_DOCUMENT_TOO_LONG"),
    ],
)
async def test_an_empty_or_oversized_document_is_invalid_and_named(shared_gateway, document, reason):
    details = await refusal(shared_gateway.client("service").GetCreditReport(report_request("ES", document)))
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [(v.field, v.reason) for v in details.violations] == [("identity_document", reason)]
    assert "9" * 40 not in details.message + str(details.violations)


async def test_every_bad_field_is_reported_at_once_before_the_consent(shared_gateway):
    request = bureau_service_pb2.GetCreditReportRequest()
    details = await refusal(shared_gateway.client("service").GetCreditReport(request))
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in details.violations} == {"country", "identity_document"}


@pytest.mark.parametrize("roles", [("partner",), ("analyst",), ("senior_analyst",), ("admin",)])
async def test_only_services_may_ask_for_a_report(shared_gateway, roles):
    details = await refusal(shared_gateway.client(*roles).GetCreditReport(report_request("ES", "70000001F")))
    assert details.code == grpc.StatusCode.PERMISSION_DENIED


async def test_a_partner_may_not_list_circuits_or_inject_faults(shared_gateway):
    partner = shared_gateway.client("partner")
    listing = await refusal(partner.ListCircuits(bureau_service_pb2.ListCircuitsRequest()))
    fault = await refusal(
        partner.InjectFault(
            bureau_service_pb2.InjectFaultRequest(
                country=country_pb2.COUNTRY_ES, kind=bureau_service_pb2.FAULT_KIND_OUTAGE
            )
        )
    )
    assert listing.code == fault.code == grpc.StatusCode.PERMISSION_DENIED


async def test_an_analyst_may_not_inject_faults(shared_gateway):
    details = await refusal(
        shared_gateway.client("analyst").InjectFault(
            bureau_service_pb2.InjectFaultRequest(
                country=country_pb2.COUNTRY_ES, kind=bureau_service_pb2.FAULT_KIND_OUTAGE
            )
        )
    )
    assert details.code == grpc.StatusCode.PERMISSION_DENIED


async def test_a_call_without_a_token_is_unauthenticated(shared_gateway):
    details = await refusal(shared_gateway.anonymous().GetCreditReport(report_request("ES", "70000001F")))
    assert (details.code, details.reason) == (grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")


@pytest.mark.parametrize("role", ["analyst", "senior_analyst", "admin", "service"])
async def test_staff_and_services_list_one_closed_circuit_per_bureau(shared_gateway, role):
    response = await shared_gateway.client(role).ListCircuits(bureau_service_pb2.ListCircuitsRequest())
    listed = [(country_pb2.Country.Name(c.country), c.provider) for c in response.circuits]
    assert listed == [(f"COUNTRY_{country}", profile.provider) for country, profile in PROFILES.items()]
    assert {c.state for c in response.circuits} == {bureau_service_pb2.CIRCUIT_STATE_CLOSED}
    assert all(c.HasField("state_change_time") for c in response.circuits)


@pytest.mark.parametrize("role", ["admin", "service"])
async def test_fault_injection_is_refused_while_disabled(shared_gateway, role):
    details = await refusal(
        shared_gateway.client(role).InjectFault(
            bureau_service_pb2.InjectFaultRequest(
                country=country_pb2.COUNTRY_ES, kind=bureau_service_pb2.FAULT_KIND_OUTAGE
            )
        )
    )
    assert (details.code, details.reason, details.domain) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "FAULT_INJECTION_DISABLED",
        DOMAIN,
    )
    report = await shared_gateway.client("service").GetCreditReport(report_request("ES", "70000001F"))
    assert not report.credit_report.fallback
