"""REST/JSON through the gateway: the protos' `google.api.http` routes, transcoded by Envoy (proto3 JSON:
camelCase names, enums by name, money as decimal strings, errors as a google.rpc.Status)."""

import uuid
from typing import Any

import aiohttp
from edge_stack import EdgeStack
from google.protobuf import json_format

from samples.applications import create_request


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_a_rest_post_creates_an_application_and_a_get_reads_it(
    http: aiohttp.ClientSession, edge: EdgeStack
) -> None:
    headers = bearer(edge.token("analyst"))
    body = json_format.MessageToDict(create_request("MX"))  # camelCase, as a partner writes it
    document = body["application"]["applicant"]["identityDocument"]

    async with http.post(f"{edge.url}/v1/applications", json=body, headers=headers) as response:
        assert response.status == 200, await response.text()
        assert response.content_type == "application/json"
        created = await response.json()
    name = created["application"]["name"]
    async with http.get(f"{edge.url}/v1/{name}", headers=headers) as response:
        assert response.status == 200, await response.text()
        read: dict[str, Any] = (await response.json())["application"]

    assert read["name"] == name
    assert read["country"] == "COUNTRY_MX"
    assert created["application"]["status"] == "APPLICATION_STATUS_PENDING"
    assert read["createTime"] == created["application"]["createTime"]
    assert read["requestedAmount"] == {"currencyCode": "MXN", "amount": "90000.00"}
    assert read["monthlyIncome"] == {"currencyCode": "MXN", "amount": "25000.00"}
    assert read["termMonths"] == 36
    assert {"createTime", "updateTime", "etag"} <= set(read)
    assert "identity_document" not in str(read)  # camelCase out, never the proto names
    masked = read["applicant"]["identityDocument"]
    assert masked != document
    assert masked.endswith(document[-4:])
    assert masked.startswith("*")


async def test_a_rest_list_takes_its_query_parameters_in_camel_case(
    http: aiohttp.ClientSession, edge: EdgeStack
) -> None:
    headers = bearer(edge.token("analyst"))
    body = json_format.MessageToDict(create_request("CO"))
    async with http.post(f"{edge.url}/v1/applications", json=body, headers=headers) as response:
        assert response.status == 200, await response.text()

    url = f"{edge.url}/v1/applications?pageSize=1&country=COUNTRY_CO"
    async with http.get(url, headers=headers) as response:
        assert response.status == 200, await response.text()
        page = await response.json()

    assert len(page["applications"]) == 1
    assert page["applications"][0]["country"] == "COUNTRY_CO"


async def test_an_invalid_rest_body_answers_400_with_every_field_violation(
    http: aiohttp.ClientSession, edge: EdgeStack
) -> None:
    body = json_format.MessageToDict(create_request("ES"))
    body["application"]["applicant"]["identityDocument"] = "12345678A"  # wrong check letter
    del body["application"]["consent"]

    async with http.post(
        f"{edge.url}/v1/applications", json=body, headers=bearer(edge.token("analyst"))
    ) as response:
        status = await response.json()
        assert response.status == 400, status

    assert status["code"] == 3  # INVALID_ARGUMENT, as a google.rpc.Status in JSON
    details = {detail["@type"].rpartition("/")[2]: detail for detail in status["details"]}
    assert details["google.rpc.ErrorInfo"]["reason"] == "INVALID_APPLICATION"
    violations = {
        violation["field"]: violation["reason"]
        for violation in details["google.rpc.BadRequest"]["fieldViolations"]
    }
    assert violations == {
        "application.applicant.identity_document": "IDENTITY_DOCUMENT_CHECKSUM_INVALID",
        "application.consent": "CONSENT_REQUIRED",
    }


async def test_an_unknown_rest_path_answers_404(http: aiohttp.ClientSession, edge: EdgeStack) -> None:
    url = f"{edge.url}/v1/applications/{uuid.uuid4()}/secrets"
    async with http.get(url, headers=bearer(edge.token("admin"))) as response:
        assert response.status == 404
