"""A bank's signed confirmation through the gateway reaches the shim, and through it intake: an approved
application is completed."""

import json
import time
import uuid
from datetime import UTC, datetime

import aiohttp
from edge_stack import EdgeStack, approving_document
from google.protobuf import json_format

from samples.applications import create_request
from svckit.testing.polling import eventually
from webhook_shim.signatures import WebhookSecret, sign


async def status_of(http: aiohttp.ClientSession, edge: EdgeStack, name: str, token: str) -> str:
    async with http.get(f"{edge.url}/v1/{name}", headers={"authorization": f"Bearer {token}"}) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["application"]["status"])


async def test_a_signed_bank_webhook_through_the_gateway_completes_an_approved_application(
    http: aiohttp.ClientSession, edge: EdgeStack
) -> None:
    token = edge.token("analyst")
    body = json_format.MessageToDict(create_request("PT", document=approving_document("PT")))
    async with http.post(
        f"{edge.url}/v1/applications", json=body, headers={"authorization": f"Bearer {token}"}
    ) as response:
        assert response.status == 200, await response.text()
        name = (await response.json())["application"]["name"]

    async def approved() -> bool:
        return await status_of(http, edge, name, token) == "APPLICATION_STATUS_APPROVED"

    await eventually(approved, what=f"{name} approved")

    confirmation = json.dumps(
        {
            "application": name,
            "bank_reference": f"BANK-{uuid.uuid4().hex[:10].upper()}",
            "identity_verified": True,
            "disbursed": True,
            "occurred_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
    ).encode()
    secret = WebhookSecret.parse(edge.secrets.webhook_secret)
    headers = {
        **sign([secret], f"msg_{uuid.uuid4().hex}", int(time.time()), confirmation),
        "content-type": "application/json",
    }
    # No bearer token: a bank proves itself with its signature.
    async with http.post(
        f"{edge.url}/webhooks/bank-confirmations", data=confirmation, headers=headers
    ) as response:
        assert response.status == 200, await response.text()

    assert await status_of(http, edge, name, token) == "APPLICATION_STATUS_COMPLETED"
