"""A client that knows nothing of our protos — like grpcurl — discovers the API through server reflection
and creates, reads, lists and pages applications with JSON bodies."""

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import grpc

from devstack.reflection import ReflectionClient
from samples.documents import valid_document

SERVICE = "globalcredit.intake.v1.IntakeService"


def scenario(address: str, token: str, documents: list[str]) -> dict[str, Any]:
    with grpc.insecure_channel(address) as channel:
        client = ReflectionClient(channel, token=token)
        services = client.services()
        created = []
        for index, document in enumerate(documents):
            body = {
                "application": {
                    "country": "COUNTRY_ES",
                    "applicant": {"fullName": "Ana García López", "identityDocument": document},
                    "requestedAmount": {"currencyCode": "EUR", "amount": "12000.00"},
                    "monthlyIncome": {"currencyCode": "EUR", "amount": "3200.00"},
                    "consent": {
                        "grantedAt": datetime.now(UTC).isoformat(),
                        "channel": "CONSENT_CHANNEL_WEB",
                        "reference": f"consent-{index}",
                    },
                },
                "requestId": f"00000000-0000-4000-8000-{index:012d}",
            }
            created.append(client.call(f"{SERVICE}/CreateApplication", body)["application"])
        got = client.call(f"{SERVICE}/GetApplication", {"name": created[0]["name"]})
        pages = []
        page_token = ""
        while True:
            page = client.call(
                f"{SERVICE}/ListApplications",
                {"pageSize": 2, "pageToken": page_token, "country": "COUNTRY_ES"},
            )
            pages.append([application["name"] for application in page.get("applications", [])])
            page_token = page.get("nextPageToken", "")
            if not page_token:
                break
        return {"services": services, "created": created, "got": got, "pages": pages}


async def test_a_reflection_only_client_creates_gets_lists_and_pages(intake, rng):
    token = intake.issuer.mint("analyst-cli", ["analyst"])
    documents = [valid_document("ES", rng) for _ in range(5)]
    result = await asyncio.to_thread(scenario, intake.address, token, documents)
    assert SERVICE in result["services"]
    assert result["got"]["application"]["name"] == result["created"][0]["name"]
    assert result["got"]["application"]["status"] == "APPLICATION_STATUS_PENDING"
    assert [len(page) for page in result["pages"]] == [2, 2, 1]
    listed = [name for page in result["pages"] for name in page]
    assert listed == sorted((a["name"] for a in result["created"]), reverse=True)
    assert json.dumps(result).count(documents[0]) == 0  # documents come back masked
