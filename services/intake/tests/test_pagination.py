"""ListApplications' keyset pagination (SPEC §15, AIP-158): every walk returns each matching application
exactly once, newest first, whatever the filters and page size; tokens are bound to their filters;
partners see only their own applications."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import grpc
import pytest

from globalcredit.intake.v1 import application_pb2, intake_service_pb2
from globalcredit.type.v1 import country_pb2
from samples.applications import create_request
from svckit import paging
from svckit.db import libpq_url
from svckit.errors import ErrorDetails, error_details

COUNTRIES = ("ES", "PT", "IT", "MX", "CO", "BR")
S = application_pb2
PENDING, VALIDATING, CANCELLED = (
    S.APPLICATION_STATUS_PENDING,
    S.APPLICATION_STATUS_VALIDATING,
    S.APPLICATION_STATUS_CANCELLED,
)
DATASET_SIZE = 500
Stub = Any  # IntakeServiceStub


def country(code: str) -> int:
    return country_pb2.Country.Value(f"COUNTRY_{code}")


@dataclass(frozen=True)
class Listed:
    name: str
    country: int
    status: int


@dataclass(frozen=True)
class Dataset:
    """The applications of the module's intake, as their last change left them."""

    applications: list[Listed]

    def matching(self, *, country: int = 0, status: int = 0) -> list[str]:
        """Names of the applications these filters select, newest first (UUIDv7 ids sort by time)."""
        return sorted(
            (
                a.name
                for a in self.applications
                if (not country or a.country == country) and (not status or a.status == status)
            ),
            reverse=True,
        )


async def create_all(
    client: Stub, requests: Sequence[intake_service_pb2.CreateApplicationRequest], *, concurrency: int = 20
) -> list[application_pb2.Application]:
    limit = asyncio.Semaphore(concurrency)

    async def create(request: intake_service_pb2.CreateApplicationRequest) -> application_pb2.Application:
        async with limit:
            return (await client.CreateApplication(request)).application

    return list(await asyncio.gather(*(create(request) for request in requests)))


async def walk(client: Stub, *, page_size: int, country: int = 0, status: int = 0) -> list[list[str]]:
    """Every page of a listing, as names, following next_page_token until it is empty."""
    pages: list[list[str]] = []
    token = ""
    while True:
        response = await client.ListApplications(
            intake_service_pb2.ListApplicationsRequest(
                page_size=page_size, page_token=token, country=country, status=status
            )
        )
        pages.append([application.name for application in response.applications])
        token = response.next_page_token
        if not token:
            return pages
        assert len(pages) <= DATASET_SIZE, "the walk does not end"


async def refusal(call: Any) -> ErrorDetails:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return error_details(caught.value)


@pytest.fixture(scope="module")
async def dataset(shared_intake: Any) -> Dataset:
    """DATASET_SIZE applications across the six countries: a third moved to VALIDATING, some others
    CANCELLED, the rest PENDING. Created once for the module; the tests only read them."""
    creator = shared_intake.client("analyst")
    scoring = shared_intake.client("service", subject="scoring")
    requests = [create_request(COUNTRIES[i % len(COUNTRIES)]) for i in range(DATASET_SIZE)]
    created = await create_all(creator, requests)
    limit = asyncio.Semaphore(20)

    async def move(index: int, application: application_pb2.Application) -> Listed:
        async with limit:
            if index % 3 == 1:
                request = intake_service_pb2.StartValidationRequest(
                    name=application.name, job_id=f"job-{index}"
                )
                application = (await scoring.StartValidation(request)).application
            elif index % 5 == 2:
                cancel = intake_service_pb2.CancelApplicationRequest(
                    name=application.name, reason="applicant withdrew", etag=application.etag
                )
                application = (await creator.CancelApplication(cancel)).application
        return Listed(application.name, application.country, application.status)

    moved = await asyncio.gather(*(move(i, a) for i, a in enumerate(created)))
    assert {a.status for a in moved} == {PENDING, VALIDATING, CANCELLED}
    return Dataset(list(moved))


FILTERS = {
    "no-filter": {},
    "country": {"country": country("IT")},
    "status": {"status": VALIDATING},
    "country-and-status": {"country": country("MX"), "status": CANCELLED},
}


@pytest.mark.parametrize(
    ("page_size", "effective"),
    [(7, 7), (0, 50), (50, 50), (1000, 1000)],
    ids=["7", "default-0-is-50", "50", "max-1000"],
)
@pytest.mark.parametrize("filters", FILTERS.values(), ids=FILTERS.keys())
async def test_walking_every_page_returns_each_matching_application_once_newest_first(
    shared_intake: Any, dataset: Dataset, filters: dict[str, int], page_size: int, effective: int
) -> None:
    client = shared_intake.client("analyst")
    expected = dataset.matching(**filters)
    assert expected

    pages = await walk(client, page_size=page_size, **filters)

    assert [name for page in pages for name in page] == expected
    assert all(len(page) == effective for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= effective
    assert len(pages) == -(-len(expected) // effective)


async def test_pages_of_one_walk_a_small_filtered_subset_one_application_at_a_time(
    shared_intake: Any, dataset: Dataset
) -> None:
    filters = {"country": country("ES"), "status": CANCELLED}
    expected = dataset.matching(**filters)
    assert 5 <= len(expected) <= 60

    pages = await walk(shared_intake.client("analyst"), page_size=1, **filters)

    assert pages == [[name] for name in expected]


async def test_the_last_page_has_no_next_page_token(shared_intake: Any, dataset: Dataset) -> None:
    client = shared_intake.client("analyst")
    expected = dataset.matching(country=country("PT"))
    first = await client.ListApplications(
        intake_service_pb2.ListApplicationsRequest(page_size=len(expected) - 1, country=country("PT"))
    )
    assert first.next_page_token
    last = await client.ListApplications(
        intake_service_pb2.ListApplicationsRequest(
            page_size=len(expected) - 1, page_token=first.next_page_token, country=country("PT")
        )
    )
    assert [a.name for a in last.applications] == expected[-1:]
    assert last.next_page_token == ""
    exact = await client.ListApplications(
        intake_service_pb2.ListApplicationsRequest(page_size=len(expected), country=country("PT"))
    )
    assert len(exact.applications) == len(expected)
    assert exact.next_page_token == ""


# Copies the one application of a fresh database many times, as CANCELLED so that the copies do not
# collide on the open-document index (their PII does not decrypt under the new ids: names read empty).
COPY_APPLICATIONS = """
INSERT INTO applications
SELECT (copy).* FROM (
    SELECT jsonb_populate_record(
        a, jsonb_build_object('id', gen_random_uuid(), 'request_id', gen_random_uuid(), 'status', 'CANCELLED')
    ) AS copy
    FROM applications a, generate_series(1, $1)
) copies
"""


async def test_a_page_size_above_1000_is_capped_at_1000(intake: Any, rng: Any) -> None:
    client = intake.client("analyst")
    await create_all(client, [create_request("ES", rng=rng)])
    connection = await asyncpg.connect(libpq_url(intake.database_url))
    try:
        await connection.execute(COPY_APPLICATIONS, 1100)
        expected = [
            f"applications/{row['id']}"
            for row in await connection.fetch("SELECT id FROM applications ORDER BY id DESC")
        ]
    finally:
        await connection.close()
    assert len(expected) == 1101

    pages = await walk(client, page_size=5000)

    assert [len(page) for page in pages] == [1000, 101]
    assert [name for page in pages for name in page] == expected


async def test_applications_created_while_paging_neither_repeat_nor_hide_older_ones(
    intake: Any, rng: Any
) -> None:
    client = intake.client("analyst")
    older = await create_all(client, [create_request(COUNTRIES[i % 6], rng=rng) for i in range(60)])
    seen: list[str] = []
    token = ""
    while True:
        response = await client.ListApplications(
            intake_service_pb2.ListApplicationsRequest(page_size=7, page_token=token)
        )
        seen += [a.name for a in response.applications]
        token = response.next_page_token
        if not token:
            break
        await create_all(client, [create_request(COUNTRIES[i % 6], rng=rng) for i in range(3)])

    assert seen == sorted((a.name for a in older), reverse=True)


async def test_a_page_token_reused_with_other_filters_is_invalid(
    shared_intake: Any, dataset: Dataset
) -> None:
    client = shared_intake.client("analyst")
    first = await client.ListApplications(
        intake_service_pb2.ListApplicationsRequest(page_size=5, country=country("ES"))
    )
    assert first.next_page_token

    for other in ({"country": country("PT")}, {"country": country("ES"), "status": PENDING}, {}):
        refused = await refusal(
            client.ListApplications(
                intake_service_pb2.ListApplicationsRequest(
                    page_size=5, page_token=first.next_page_token, **other
                )
            )
        )
        assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.reason == "INVALID_PAGE_TOKEN"
        assert [v.field for v in refused.violations] == ["page_token"]


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "!!!",
        "eyJwIjoxfQ",  # {"p":1}
        "W10",  # []
        "e30",  # {}
        "eyJwIjoibm90LWEtdXVpZCIsInMiOiJ4In0",  # {"p":"not-a-uuid","s":"x"}
        paging.encode(paging.PageToken(position="not-a-uuid", scope=paging.scope_of(None, None, None))),
    ],
    ids=["word", "not-base64", "no-scope", "a-list", "empty-object", "foreign-scope", "bad-position"],
)
async def test_a_garbage_page_token_is_invalid(shared_intake: Any, token: str) -> None:
    refused = await refusal(
        shared_intake.client("analyst").ListApplications(
            intake_service_pb2.ListApplicationsRequest(page_token=token)
        )
    )
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in refused.violations] == ["page_token"]


async def test_a_negative_page_size_is_invalid(shared_intake: Any) -> None:
    refused = await refusal(
        shared_intake.client("analyst").ListApplications(
            intake_service_pb2.ListApplicationsRequest(page_size=-1)
        )
    )
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in refused.violations] == ["page_size"]


async def test_a_partner_lists_only_its_own_applications(intake: Any, rng: Any) -> None:
    first = intake.client("partner", partner_id="p-1")
    second = intake.client("partner", partner_id="p-2")
    analyst = intake.client("analyst")
    of_first, of_second, of_analyst = await asyncio.gather(
        create_all(first, [create_request(COUNTRIES[i % 6], rng=rng) for i in range(9)]),
        create_all(second, [create_request(COUNTRIES[i % 6], rng=rng) for i in range(7)]),
        create_all(analyst, [create_request(COUNTRIES[i % 6], rng=rng) for i in range(5)]),
    )

    def names(applications: list[application_pb2.Application]) -> list[str]:
        return sorted((a.name for a in applications), reverse=True)

    async def listed(client: Stub, **filters: int) -> list[str]:
        return [name for page in await walk(client, page_size=2, **filters) for name in page]

    assert await listed(first) == names(of_first)
    assert await listed(second) == names(of_second)
    in_spain = country("ES")
    assert await listed(first, country=in_spain) == names([a for a in of_first if a.country == in_spain])
    assert await listed(analyst) == names(of_first + of_second + of_analyst)
    assert await listed(intake.client("partner", partner_id="p-3")) == []


async def test_a_partners_page_token_is_refused_to_another_partner(intake: Any, rng: Any) -> None:
    first = intake.client("partner", partner_id="p-1")
    await create_all(first, [create_request("ES", rng=rng) for _ in range(3)])
    page = await first.ListApplications(intake_service_pb2.ListApplicationsRequest(page_size=1))
    assert page.next_page_token

    refused = await refusal(
        intake.client("partner", partner_id="p-2").ListApplications(
            intake_service_pb2.ListApplicationsRequest(page_size=1, page_token=page.next_page_token)
        )
    )
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in refused.violations] == ["page_token"]
