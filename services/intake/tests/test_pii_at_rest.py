"""PII at rest and in answers (SPEC §4): names and documents are stored only encrypted, looked up by a
keyed per-country blind index, shown masked, and revealed only to `pii:read`, with an audit entry."""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from globalcredit.intake.v1 import application_pb2, intake_service_pb2
from intake.countries import Country
from intake.documents import normalise_document
from intake.pii import PiiCipher
from samples.applications import create_request
from samples.documents import valid_document
from svckit.db import libpq_url
from svckit.errors import error_details

COUNTRIES = ("ES", "PT", "IT", "MX", "CO", "BR")
# Documents as an applicant might type them, separators and lower case included.
TYPED_DOCUMENTS = {
    "ES": "12.345.678-z",
    "PT": "123 456 789",
    "IT": "rssmra80a01h501u",
    "MX": "HERM850101MDFRRR08",
    "CO": "1.234.567.890",
    "BR": "529.982.247-25",
}
S = application_pb2
Stub = Any  # IntakeServiceStub


def application_id(name: str) -> uuid.UUID:
    return uuid.UUID(name.removeprefix("applications/"))


def masked(document: str) -> str:
    return "*" * (len(document) - 4) + document[-4:]


def now() -> Timestamp:
    result = Timestamp()
    result.FromDatetime(datetime.now(UTC))
    return result


async def create(client: Stub, country: str, document: str, full_name: str) -> application_pb2.Application:
    request = create_request(country, document=document)
    request.application.applicant.full_name = full_name
    return (await client.CreateApplication(request)).application


async def blind_index(database_url: str, name: str) -> bytes:
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        index: bytes = await connection.fetchval(
            "SELECT document_blind_index FROM applications WHERE id = $1", application_id(name)
        )
    finally:
        await connection.close()
    return index


async def dump_database(database_url: str) -> tuple[dict[str, list[str]], list[bytes]]:
    """Every row of every table as text, and every value of every bytea column as raw bytes."""
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        tables = [
            row["table_name"]
            for row in await connection.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
        ]
        rows = {
            table: [row[0] for row in await connection.fetch(f'SELECT t::text FROM "{table}" t')]  # noqa: S608
            for table in tables
        }
        binary: list[bytes] = []
        for column in await connection.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type = 'bytea'"
        ):
            query = f'SELECT "{column["column_name"]}" FROM "{column["table_name"]}"'  # noqa: S608
            binary += [row[0] for row in await connection.fetch(query) if row[0] is not None]
    finally:
        await connection.close()
    return rows, binary


async def test_no_table_holds_a_name_or_document_in_plaintext(intake: Any, rng: Any) -> None:
    creator = intake.client("partner", partner_id="p-pii")
    scoring = intake.client("service", subject="scoring")
    reader = intake.client("analyst", permissions=("pii:read",))
    people: list[tuple[str, str, str]] = []
    for country in COUNTRIES:
        for document in (TYPED_DOCUMENTS[country], valid_document(country, rng)):
            people.append((country, document, f"Ximena x{uuid.uuid4().hex[:10]} Ñúñez-Åberg"))
    applications = await asyncio.gather(*(create(creator, *person) for person in people))

    async def touch(index: int, application: application_pb2.Application) -> None:
        """Leaves a trace in every table: validation, a bank confirmation, a revealed read."""
        job_id = f"job-{index}"
        await scoring.StartValidation(
            intake_service_pb2.StartValidationRequest(name=application.name, job_id=job_id)
        )
        await reader.GetApplication(
            intake_service_pb2.GetApplicationRequest(name=application.name, view=S.APPLICATION_VIEW_FULL)
        )
        if index % 2:
            await scoring.RecordBankConfirmation(
                intake_service_pb2.RecordBankConfirmationRequest(
                    name=application.name,
                    webhook_id=f"wh-{index}",
                    bank_reference=f"BANK-{index}",
                    identity_verified=False,
                    occur_time=now(),
                )
            )

    await asyncio.gather(*(touch(i, application) for i, application in enumerate(applications)))

    rows, binary = await dump_database(intake.database_url)
    for table in ("applications", "application_events", "outbox_events", "bank_confirmations"):
        assert rows[table], table
    text = "\n".join(value for values in rows.values() for value in values)
    for country, document, full_name in people:
        secrets = {
            full_name,
            full_name.split()[1],
            document,
            normalise_document(Country(country), document),
        }
        for secret in secrets:
            assert secret not in text, (country, "plaintext in a table")
            assert not any(secret.encode() in value for value in binary), (country, "plaintext in bytea")


async def test_the_blind_index_is_keyed_per_country_and_the_same_for_the_same_document(
    intake: Any, cipher: PiiCipher
) -> None:
    client = intake.client("analyst")
    spanish = await create(client, "ES", "12345678Z", "Ana Example")
    await client.CancelApplication(
        intake_service_pb2.CancelApplicationRequest(name=spanish.name, reason="withdrawn", etag=spanish.etag)
    )
    spanish_again = await create(client, "ES", "12.345.678-z", "Ana Example")
    portuguese = await create(client, "PT", "123456789", "Rui Example")
    colombian = await create(client, "CO", "123456789", "Rui Example")

    indexes = {
        name: await blind_index(intake.database_url, name)
        for name in (spanish.name, spanish_again.name, portuguese.name, colombian.name)
    }

    assert indexes[spanish.name] == indexes[spanish_again.name] == cipher.blind_index("ES", "12345678Z")
    assert indexes[portuguese.name] != indexes[colombian.name]
    assert indexes[portuguese.name] == cipher.blind_index("PT", "123456789")
    assert indexes[colombian.name] == cipher.blind_index("CO", "123456789")


async def test_the_full_view_without_pii_read_is_denied_and_not_audited(intake: Any) -> None:
    client = intake.client("analyst")
    created = await create(client, "BR", "529.982.247-25", "Beatriz Example")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.GetApplication(
            intake_service_pb2.GetApplicationRequest(name=created.name, view=S.APPLICATION_VIEW_FULL)
        )

    refused = error_details(caught.value)
    assert refused.code == grpc.StatusCode.PERMISSION_DENIED
    assert refused.reason == "PII_READ_NOT_PERMITTED"
    assert "52998224725" not in refused.message
    events = await client.ListApplicationEvents(
        intake_service_pb2.ListApplicationEventsRequest(name=created.name)
    )
    assert [event.kind for event in events.events] == [S.AUDIT_EVENT_KIND_CREATED]


async def test_the_full_view_with_pii_read_reveals_the_document_and_is_audited(intake: Any) -> None:
    creator = intake.client("analyst", subject="analyst-creator")
    created = await create(creator, "BR", "529.982.247-25", "Beatriz Example")
    reader = intake.client("analyst", subject="analyst-reader", permissions=("pii:read",))

    full = await reader.GetApplication(
        intake_service_pb2.GetApplicationRequest(name=created.name, view=S.APPLICATION_VIEW_FULL)
    )

    assert full.application.applicant.identity_document == "52998224725"
    assert full.application.applicant.full_name == "Beatriz Example"
    events = (
        await reader.ListApplicationEvents(intake_service_pb2.ListApplicationEventsRequest(name=created.name))
    ).events
    assert [(event.kind, event.actor) for event in events] == [
        (S.AUDIT_EVENT_KIND_CREATED, "analyst-creator"),
        (S.AUDIT_EVENT_KIND_PII_REVEALED, "analyst-reader"),
    ]


@pytest.mark.parametrize("country", COUNTRIES)
async def test_answers_mask_the_document_to_its_last_four_characters(intake: Any, country: str) -> None:
    client = intake.client("analyst")
    document = normalise_document(Country(country), TYPED_DOCUMENTS[country])
    expected = masked(document)

    created = await create(client, country, TYPED_DOCUMENTS[country], "Masked Example")
    default = await client.GetApplication(intake_service_pb2.GetApplicationRequest(name=created.name))
    basic = await client.GetApplication(
        intake_service_pb2.GetApplicationRequest(name=created.name, view=S.APPLICATION_VIEW_BASIC)
    )
    listed = await client.ListApplications(intake_service_pb2.ListApplicationsRequest())
    cancelled = await client.CancelApplication(
        intake_service_pb2.CancelApplicationRequest(name=created.name, reason="withdrawn", etag=created.etag)
    )

    answers = [created, default.application, basic.application, *listed.applications, cancelled.application]
    assert [answer.applicant.identity_document for answer in answers] == [expected] * 5
    assert expected.endswith(document[-4:])
    assert expected.count("*") == len(document) - 4
