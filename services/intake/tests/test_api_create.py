"""CreateApplication through a real gRPC server and PostgreSQL: validation, limits, idempotency and
duplicate refusal, each answered with the precise status and reason."""

import asyncio
import uuid
from collections.abc import Awaitable
from datetime import date

import asyncpg
import grpc
import pytest

from globalcredit.intake.v1 import application_pb2, intake_service_pb2
from globalcredit.type.v1 import country_pb2
from samples.applications import create_request, new_application
from samples.documents import mexican_curp, valid_document
from svckit.errors import ErrorDetails, error_details

DOCUMENT_FIELD = "application.applicant.identity_document"

VALID_DOCUMENTS = [
    ("ES", "12345678Z", application_pb2.IDENTITY_DOCUMENT_TYPE_ES_DNI),
    ("ES", "X1234567L", application_pb2.IDENTITY_DOCUMENT_TYPE_ES_NIE),
    ("PT", "123456789", application_pb2.IDENTITY_DOCUMENT_TYPE_PT_NIF),
    ("IT", "RSSMRA80A01H501U", application_pb2.IDENTITY_DOCUMENT_TYPE_IT_CODICE_FISCALE),
    ("MX", "HERM850101MDFRRR08", application_pb2.IDENTITY_DOCUMENT_TYPE_MX_CURP),
    ("MX", "BOXW310820HNERXN09", application_pb2.IDENTITY_DOCUMENT_TYPE_MX_CURP),
    ("CO", "1234567890", application_pb2.IDENTITY_DOCUMENT_TYPE_CO_CEDULA),
    ("BR", "11144477735", application_pb2.IDENTITY_DOCUMENT_TYPE_BR_CPF),
    ("BR", "529.982.247-25", application_pb2.IDENTITY_DOCUMENT_TYPE_BR_CPF),
]

INVALID_DOCUMENTS = [
    ("ES", "12345678A", "IDENTITY_DOCUMENT_CHECKSUM_INVALID"),
    ("ES", "1234567Z", "IDENTITY_DOCUMENT_FORMAT_INVALID"),
    ("PT", "123456780", "IDENTITY_DOCUMENT_CHECKSUM_INVALID"),
    ("PT", "501964843", "IDENTITY_DOCUMENT_NOT_INDIVIDUAL"),
    ("IT", "RSSMRA80A01H501A", "IDENTITY_DOCUMENT_CHECKSUM_INVALID"),
    ("MX", "HERM850101MDFRRR01", "IDENTITY_DOCUMENT_CHECKSUM_INVALID"),
    ("CO", "12345", "IDENTITY_DOCUMENT_FORMAT_INVALID"),
    ("CO", "12345678901", "IDENTITY_DOCUMENT_FORMAT_INVALID"),
    ("CO", "12A4567", "IDENTITY_DOCUMENT_FORMAT_INVALID"),
    ("BR", "11111111111", "IDENTITY_DOCUMENT_FORMAT_INVALID"),
    ("BR", "12345678900", "IDENTITY_DOCUMENT_CHECKSUM_INVALID"),
    ("ES", "", "IDENTITY_DOCUMENT_REQUIRED"),
]


async def refusal(call: Awaitable[object]) -> ErrorDetails:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return error_details(caught.value)


def violations_by_field(details: ErrorDetails) -> dict[str, str]:
    return {violation.field: violation.reason for violation in details.violations}


@pytest.mark.parametrize(("country", "document", "document_type"), VALID_DOCUMENTS)
async def test_valid_document_is_accepted_and_masked(shared_intake, country, document, document_type):
    client = shared_intake.client("analyst")
    response = await client.CreateApplication(create_request(country, document=document))
    applicant = response.application.applicant
    assert response.application.status == application_pb2.APPLICATION_STATUS_PENDING
    assert applicant.identity_document_type == document_type
    normalised = document.replace(".", "").replace("-", "")
    assert applicant.identity_document == "*" * (len(normalised) - 4) + normalised[-4:]


@pytest.mark.parametrize(("country", "document", "reason"), INVALID_DOCUMENTS)
async def test_invalid_document_is_refused_naming_the_field(shared_intake, country, document, reason):
    client = shared_intake.client("analyst")
    details = await refusal(client.CreateApplication(create_request(country, document=document or " ")))
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.reason == "INVALID_APPLICATION"
    assert violations_by_field(details) == {DOCUMENT_FIELD: reason}


async def test_curp_of_a_minor_is_refused_as_underage(shared_intake, rng):
    today = date.today()
    document = mexican_curp(rng, born=today.replace(year=today.year - 17, day=min(today.day, 28)))
    details = await refusal(shared_intake.client().CreateApplication(create_request("MX", document=document)))
    assert violations_by_field(details) == {DOCUMENT_FIELD: "APPLICANT_UNDERAGE"}


async def test_every_violation_is_reported_in_one_bad_request(shared_intake):
    request = create_request("ES", document="12345678A", amount="50000.01", income="1499.99")
    request.application.requested_amount.currency_code = "USD"
    details = await refusal(shared_intake.client().CreateApplication(request))
    assert violations_by_field(details) == {
        DOCUMENT_FIELD: "IDENTITY_DOCUMENT_CHECKSUM_INVALID",
        "application.requested_amount.currency_code": "CURRENCY_MISMATCH",
        "application.requested_amount.amount": "AMOUNT_ABOVE_COUNTRY_MAXIMUM",
        "application.monthly_income.amount": "INCOME_BELOW_COUNTRY_MINIMUM",
    }
    # The error describes what is wrong without repeating the applicant's data.
    assert "12345678A" not in str(details)
    assert request.application.applicant.full_name not in str(details)


@pytest.mark.parametrize(
    ("country", "amount", "income"),
    [
        ("ES", "50000.00", "1500.00"),
        ("PT", "30000.00", "800.00"),
        ("IT", "50000.00", "1200.00"),
        ("MX", "200000.00", "5000.00"),
        ("CO", "50000000.00", "1500000.00"),
        ("BR", "100000.00", "2000.00"),
    ],
)
async def test_amount_at_the_country_maximum_and_income_at_the_minimum_are_accepted(
    shared_intake, country, amount, income
):
    response = await shared_intake.client().CreateApplication(
        create_request(country, amount=amount, income=income)
    )
    assert response.application.requested_amount.amount == amount
    assert response.application.monthly_income.amount == income


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("12,000.00", "MONEY_MALFORMED"),
        ("1e4", "MONEY_MALFORMED"),
        ("-5", "MONEY_MALFORMED"),
        ("100.001", "MONEY_MALFORMED"),
        ("0", "AMOUNT_NOT_POSITIVE"),
        ("", "MONEY_MALFORMED"),
    ],
)
async def test_malformed_money_is_refused(shared_intake, amount, reason):
    request = create_request("ES")
    request.application.requested_amount.amount = amount
    details = await refusal(shared_intake.client().CreateApplication(request))
    assert violations_by_field(details) == {"application.requested_amount.amount": reason}


async def test_amounts_are_answered_with_two_fraction_digits(shared_intake):
    response = await shared_intake.client().CreateApplication(
        create_request("ES", amount="12000", income="3200.5")
    )
    assert response.application.requested_amount.amount == "12000.00"
    assert response.application.monthly_income.amount == "3200.50"


async def test_term_defaults_to_36_months(shared_intake):
    response = await shared_intake.client().CreateApplication(create_request("PT"))
    assert response.application.term_months == 36


async def test_missing_consent_and_country_are_refused(shared_intake):
    request = create_request("ES")
    request.application.ClearField("consent")
    request.application.country = country_pb2.COUNTRY_UNSPECIFIED
    details = await refusal(shared_intake.client().CreateApplication(request))
    assert violations_by_field(details) == {
        "application.country": "COUNTRY_REQUIRED",
        "application.consent": "CONSENT_REQUIRED",
    }


async def test_country_details_of_another_country_are_refused(shared_intake):
    request = create_request("ES")
    request.application.country_details.brazil.state_code = "SP"
    details = await refusal(shared_intake.client().CreateApplication(request))
    assert violations_by_field(details) == {"application.country_details": "COUNTRY_DETAILS_MISMATCH"}


async def test_country_details_are_stored_and_returned(shared_intake):
    request = create_request("CO")
    request.application.country_details.colombia.socioeconomic_stratum = 3
    created = await shared_intake.client().CreateApplication(request)
    got = await shared_intake.client().GetApplication(
        intake_service_pb2.GetApplicationRequest(name=created.application.name)
    )
    assert got.application.country_details.colombia.socioeconomic_stratum == 3


async def test_malformed_request_id_is_reported_with_the_other_violations(shared_intake):
    request = create_request("ES", document="12345678A")
    request.request_id = "not-a-uuid"
    details = await refusal(shared_intake.client().CreateApplication(request))
    assert violations_by_field(details) == {
        "request_id": "REQUEST_ID_INVALID",
        DOCUMENT_FIELD: "IDENTITY_DOCUMENT_CHECKSUM_INVALID",
    }


async def test_nothing_is_stored_for_a_refused_request(intake):
    request = create_request("ES", amount="90000.00")
    await refusal(intake.client().CreateApplication(request))
    connection = await asyncpg.connect(intake.database_url)
    try:
        for table in ("applications", "application_events", "outbox_events"):
            assert await connection.fetchval(f"SELECT count(*) FROM {table}") == 0  # noqa: S608
    finally:
        await connection.close()


async def test_repeating_a_request_returns_the_original_application(shared_intake):
    client = shared_intake.client("analyst", subject="analyst-repeat")
    request = create_request("IT")
    first = await client.CreateApplication(request)
    second = await client.CreateApplication(request)
    assert second.application.name == first.application.name
    assert second.application.create_time == first.application.create_time


async def test_concurrent_repeats_of_a_request_create_one_application(intake):
    client = intake.client("analyst", subject="analyst-burst")
    request = create_request("BR")
    responses = await asyncio.gather(*(client.CreateApplication(request) for _ in range(10)))
    assert len({response.application.name for response in responses}) == 1
    connection = await asyncpg.connect(intake.database_url)
    try:
        assert await connection.fetchval("SELECT count(*) FROM applications") == 1
    finally:
        await connection.close()


async def test_reusing_a_request_id_with_another_payload_is_refused(shared_intake):
    client = shared_intake.client("analyst", subject="analyst-reuse")
    request = create_request("ES")
    await client.CreateApplication(request)
    changed = intake_service_pb2.CreateApplicationRequest()
    changed.CopyFrom(request)
    changed.application.requested_amount.amount = "9999.00"
    details = await refusal(client.CreateApplication(changed))
    assert details.code == grpc.StatusCode.ALREADY_EXISTS
    assert details.reason == "REQUEST_ID_REUSED"


async def test_a_request_id_is_bound_to_its_caller(shared_intake):
    request = create_request("ES")
    await shared_intake.client("analyst", subject="analyst-a").CreateApplication(request)
    details = await refusal(shared_intake.client("analyst", subject="analyst-b").CreateApplication(request))
    assert details.reason == "REQUEST_ID_REUSED"


async def test_an_open_application_for_the_same_document_is_refused_as_duplicate(shared_intake, rng):
    client = shared_intake.client()
    document = valid_document("PT", rng)
    first = await client.CreateApplication(create_request("PT", document=document))
    details = await refusal(client.CreateApplication(create_request("PT", document=document)))
    assert details.code == grpc.StatusCode.ALREADY_EXISTS
    assert details.reason == "DUPLICATE_APPLICATION"
    assert details.metadata == {"application": first.application.name}


async def test_duplicate_check_uses_the_document_not_its_spelling(intake):
    client = intake.client()
    await client.CreateApplication(create_request("BR", document="529.982.247-25"))
    details = await refusal(client.CreateApplication(create_request("BR", document="52998224725")))
    assert details.reason == "DUPLICATE_APPLICATION"


async def test_the_same_number_in_two_countries_is_not_a_duplicate(intake):
    client = intake.client()
    # Valid both as a Portuguese NIF and as a Colombian cédula.
    await client.CreateApplication(create_request("PT", document="123456789"))
    created = await client.CreateApplication(create_request("CO", document="123456789"))
    assert created.application.status == application_pb2.APPLICATION_STATUS_PENDING


async def test_a_new_application_is_accepted_once_the_old_one_is_final(intake):
    client = intake.client()
    first = await client.CreateApplication(create_request("ES", document="X1234567L"))
    await client.CancelApplication(
        intake_service_pb2.CancelApplicationRequest(
            name=first.application.name, reason="applicant withdrew", etag=first.application.etag
        )
    )
    second = await client.CreateApplication(create_request("ES", document="X1234567L"))
    assert second.application.name != first.application.name


async def test_twenty_concurrent_creates_for_one_document_let_exactly_one_win(intake):
    client = intake.client()
    requests = [create_request("MX", document="BOXW310820HNERXN09") for _ in range(20)]
    results = await asyncio.gather(*(client.CreateApplication(r) for r in requests), return_exceptions=True)
    winners = [r for r in results if isinstance(r, intake_service_pb2.CreateApplicationResponse)]
    losers = [error_details(r) for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(winners) == 1
    assert len(losers) == 19
    assert {(loser.code, loser.reason) for loser in losers} == {
        (grpc.StatusCode.ALREADY_EXISTS, "DUPLICATE_APPLICATION")
    }
    assert {loser.metadata["application"] for loser in losers} == {winners[0].application.name}


async def test_a_partner_application_carries_the_partner_id(shared_intake):
    response = await shared_intake.client("partner", partner_id="broker-7").CreateApplication(
        create_request("CO")
    )
    assert response.application.partner_id == "broker-7"


async def test_output_only_fields_sent_by_the_client_are_ignored(shared_intake):
    application = new_application("ES")
    application.status = application_pb2.APPLICATION_STATUS_APPROVED
    application.partner_id = "someone-else"
    application.name = "applications/00000000-0000-0000-0000-000000000000"
    response = await shared_intake.client().CreateApplication(
        intake_service_pb2.CreateApplicationRequest(application=application, request_id=str(uuid.uuid4()))
    )
    assert response.application.status == application_pb2.APPLICATION_STATUS_PENDING
    assert response.application.partner_id == ""
    assert response.application.name != application.name
