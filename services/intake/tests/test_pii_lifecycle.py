"""The PII lifecycle (SPEC §4, GDPR Art. 17): key-encryption keys rotate without losing old data, data
keys are re-wrapped with traffic running, and an applicant's data can be erased for good while the
applications, decisions and audit trail stay."""

import asyncio
import os
from collections.abc import Awaitable

import asyncpg
import grpc
import pytest
from intake_harness import running_intake, settings_for
from intake_workflow import Workflow

from globalcredit.intake.v1 import application_pb2, intake_service_pb2
from intake.app import rewrap
from intake.pii import Keyring
from samples.applications import create_request
from samples.documents import valid_document
from svckit.db import libpq_url
from svckit.errors import ErrorDetails, error_details

S = application_pb2
FULL = application_pb2.APPLICATION_VIEW_FULL


async def refusal(call: Awaitable[object]) -> ErrorDetails:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return error_details(caught.value)


def rotated(keyring: Keyring) -> Keyring:
    """The same keys plus a new current one."""
    return Keyring(
        current_key_id="test-2",
        keys={**keyring.keys, "test-2": os.urandom(32)},
        blind_index_key=keyring.blind_index_key,
    )


async def key_ids(database_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT pii_key_id, count(*) AS n FROM applications GROUP BY pii_key_id"
        )
    finally:
        await connection.close()
    return {row["pii_key_id"]: row["n"] for row in rows}


async def read_in_clear(client, name: str) -> application_pb2.Applicant:
    request = intake_service_pb2.GetApplicationRequest(name=name, view=FULL)
    return (await client.GetApplication(request)).application.applicant


async def test_after_rotation_old_and_new_applications_read_correctly(
    database_url, nats_url, issuer, keyring, rng
):
    documents: dict[str, str] = {}
    async with running_intake(settings_for(database_url, nats_url, issuer, keyring), issuer) as before:
        for _ in range(3):
            document = valid_document("ES", rng)
            created = await before.client().CreateApplication(create_request("ES", document=document))
            documents[created.application.name] = document
    async with running_intake(
        settings_for(database_url, nats_url, issuer, rotated(keyring)), issuer
    ) as after:
        for _ in range(3):
            document = valid_document("IT", rng)
            created = await after.client().CreateApplication(create_request("IT", document=document))
            documents[created.application.name] = document
        reader = after.client("senior_analyst", permissions=("pii:read",))
        for name, document in documents.items():
            assert (await read_in_clear(reader, name)).identity_document == document
    assert await key_ids(database_url) == {"test-1": 3, "test-2": 3}


async def test_rewrap_moves_every_record_to_the_current_key_with_traffic_running(
    database_url, nats_url, issuer, keyring, rng
):
    async with running_intake(settings_for(database_url, nats_url, issuer, keyring), issuer) as before:
        client = before.client()
        await asyncio.gather(*(client.CreateApplication(create_request("BR", rng=rng)) for _ in range(60)))
    new_settings = settings_for(database_url, nats_url, issuer, rotated(keyring))
    async with running_intake(new_settings, issuer) as after:
        workflow = Workflow(after.client(), after.client("service", subject="scoring"), rng)
        etags = {
            application.name: application.etag
            for application in (
                await after.client().ListApplications(
                    intake_service_pb2.ListApplicationsRequest(page_size=100)
                )
            ).applications
        }

        async def traffic() -> int:
            done = 0
            for _ in range(20):
                await workflow.application_in(S.APPLICATION_STATUS_UNDER_REVIEW, country="BR")
                done += 1
            return done

        moved, rewrapped = await asyncio.gather(traffic(), rewrap(new_settings))
        assert moved == 20
        assert rewrapped == 60
        assert await rewrap(new_settings) == 0  # nothing left: a second run finds all done
        reader = after.client("senior_analyst", permissions=("pii:read",))
        for name, etag in etags.items():
            got = (
                await reader.GetApplication(intake_service_pb2.GetApplicationRequest(name=name))
            ).application
            assert got.etag == etag, "re-wrapping changes nothing anyone reads"
            assert (await read_in_clear(reader, name)).identity_document
    assert await key_ids(database_url) == {"test-2": 80}


async def test_erasure_leaves_the_application_but_nothing_of_the_applicant(intake, rng):
    document = valid_document("MX", rng)
    workflow = Workflow(intake.client(), intake.client("service", subject="scoring"), rng)
    # An older, cancelled application of the same applicant, and the open one.
    old = await intake.client().CreateApplication(create_request("MX", document=document))
    await workflow.cancel(old.application)
    current = await intake.client().CreateApplication(create_request("MX", document=document))
    full_name = current.application.applicant.full_name

    admin = intake.client("admin", subject="dpo")
    erased = await admin.EraseApplicantData(
        intake_service_pb2.EraseApplicantDataRequest(name=current.application.name, reason="request DSR-17")
    )
    assert set(erased.erased_applications) == {old.application.name, current.application.name}

    reader = intake.client("senior_analyst", permissions=("pii:read",))
    for name in erased.erased_applications:
        applicant = await read_in_clear(reader, name)
        assert (applicant.full_name, applicant.identity_document, applicant.erased) == ("", "", True)
        events = await reader.ListApplicationEvents(
            intake_service_pb2.ListApplicationEventsRequest(name=name)
        )
        kinds = [event.kind for event in events.events]
        assert kinds[0] == S.AUDIT_EVENT_KIND_CREATED  # the trail stays
        erasure = [event for event in events.events if event.kind == S.AUDIT_EVENT_KIND_PII_ERASED]
        assert [(e.actor, e.reason) for e in erasure] == [("dpo", "request DSR-17")]

    connection = await asyncpg.connect(libpq_url(intake.database_url))
    try:
        rows = await connection.fetch("SELECT t::text AS row FROM applications t")
        assert rows, "the applications themselves remain"
        for row in rows:
            assert document not in row["row"]
            assert full_name not in row["row"]
        leftovers = await connection.fetchval(
            "SELECT count(*) FROM applications WHERE pii_wrapped_key IS NOT NULL "
            "OR full_name_ciphertext IS NOT NULL OR document_blind_index IS NOT NULL"
        )
        assert leftovers == 0
    finally:
        await connection.close()


async def test_after_erasure_duplicate_checks_no_longer_match_the_applicant(intake, rng):
    document = valid_document("CO", rng)
    first = await intake.client().CreateApplication(create_request("CO", document=document))
    await intake.client("admin").EraseApplicantData(
        intake_service_pb2.EraseApplicantDataRequest(name=first.application.name, reason="DSR-18")
    )
    again = await intake.client().CreateApplication(create_request("CO", document=document))
    assert again.application.name != first.application.name


async def test_erasing_again_is_harmless(intake, rng):
    created = await intake.client().CreateApplication(create_request("PT", rng=rng))
    admin = intake.client("admin")
    request = intake_service_pb2.EraseApplicantDataRequest(name=created.application.name, reason="DSR-19")
    await admin.EraseApplicantData(request)
    again = await admin.EraseApplicantData(request)
    assert list(again.erased_applications) == [created.application.name]


async def test_only_an_admin_may_erase(shared_intake, rng):
    created = await shared_intake.client().CreateApplication(create_request("ES", rng=rng))
    request = intake_service_pb2.EraseApplicantDataRequest(name=created.application.name, reason="DSR-20")
    details = await refusal(
        shared_intake.client("senior_analyst", permissions=("pii:read",)).EraseApplicantData(request)
    )
    assert details.code == grpc.StatusCode.PERMISSION_DENIED


async def test_an_erasure_needs_a_reason(shared_intake, rng):
    created = await shared_intake.client().CreateApplication(create_request("ES", rng=rng))
    details = await refusal(
        shared_intake.client("admin").EraseApplicantData(
            intake_service_pb2.EraseApplicantDataRequest(name=created.application.name)
        )
    )
    assert [v.field for v in details.violations] == ["reason"]
