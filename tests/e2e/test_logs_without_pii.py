"""The logs of a full run through the gateway hold no applicant name or document: applications from every
country over REST and grpc-web, decided by scoring, one revealed to a senior analyst, one confirmed by its
bank, refused input that carried personal data. The stack logs at DEBUG, so every line counts."""

import json
import random
import re
import string
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from edge_stack import EdgeStack, approving_document
from google.protobuf import json_format
from grpc_web_client import GrpcWebClient

from globalcredit.intake.v1 import application_pb2, intake_service_pb2
from samples.applications import create_request
from samples.documents import valid_document
from svckit.testing.polling import eventually
from webhook_shim.signatures import WebhookSecret, sign

CREATE = "/globalcredit.intake.v1.IntakeService/CreateApplication"
UNDECIDED = {"APPLICATION_STATUS_PENDING", "APPLICATION_STATUS_VALIDATING"}


@dataclass(frozen=True)
class Applicant:
    full_name: str
    document: str

    def traces(self) -> set[str]:
        """Every form in which this person's data could appear: the name, each of its words, and the
        document as sent and as stored (letters and digits only)."""
        return {
            self.full_name,
            *self.full_name.split(),
            self.document,
            re.sub(r"[^0-9A-Za-z]", "", self.document),
        }


def marker_name(rng: random.Random) -> str:
    """A name no log line could contain by chance: two made-up ten-letter words."""
    return " ".join("Q" + "".join(rng.choice(string.ascii_lowercase) for _ in range(9)) for _ in range(2))


def headers(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def create_by_rest(
    http: aiohttp.ClientSession,
    edge: EdgeStack,
    token: str,
    request: intake_service_pb2.CreateApplicationRequest,
) -> str:
    body = json_format.MessageToDict(request)
    async with http.post(f"{edge.url}/v1/applications", json=body, headers=headers(token)) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["application"]["name"])


async def application(
    http: aiohttp.ClientSession, edge: EdgeStack, name: str, token: str, *, query: str = ""
) -> dict[str, object]:
    async with http.get(f"{edge.url}/v1/{name}{query}", headers=headers(token)) as response:
        assert response.status == 200, await response.text()
        found: dict[str, object] = (await response.json())["application"]
        return found


async def refused(
    http: aiohttp.ClientSession, edge: EdgeStack, token: str, body: dict[str, object], *, status: int
) -> str:
    async with http.post(f"{edge.url}/v1/applications", json=body, headers=headers(token)) as response:
        assert response.status == status, await response.text()
        return await response.text()


def assert_repeats_nothing_of(applicant: Applicant, answer: str) -> None:
    repeated = {trace for trace in applicant.traces() if trace.lower() in answer.lower()}
    assert not repeated, f"the error answer repeats {repeated}"


def log_lines_with(logs_dir: Path, needles: set[str]) -> list[str]:
    """Lines holding any of `needles` as a whole word (case aside): a ten-digit document must not be
    "found" inside a longer number that happens to contain it."""
    alternatives = "|".join(re.escape(needle) for needle in sorted(needles, key=len, reverse=True))
    pattern = re.compile(rf"(?<![0-9A-Za-z])(?:{alternatives})(?![0-9A-Za-z])", re.IGNORECASE)
    return [
        f"{path.name}: {line[:300]}"
        for path in sorted(logs_dir.glob("*.log"))
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
        if pattern.search(line)
    ]


async def test_logs_of_a_full_run_hold_no_applicant_name_or_document(
    http: aiohttp.ClientSession, grpc_web: GrpcWebClient, edge: EdgeStack
) -> None:
    rng = random.Random()
    analyst = edge.token("analyst")
    applicants: list[Applicant] = []
    names: list[str] = []

    # Every country, half over REST and half over grpc-web, as partners and the console send them.
    for index, country in enumerate(("ES", "PT", "IT", "MX", "CO", "BR")):
        applicant = Applicant(marker_name(rng), valid_document(country, rng))
        request = create_request(country, rng=rng, document=applicant.document)
        request.application.applicant.full_name = applicant.full_name
        if index % 2 == 0:
            names.append(await create_by_rest(http, edge, analyst, request))
        else:
            reply = await grpc_web.unary(
                CREATE, request, intake_service_pb2.CreateApplicationResponse, token=analyst
            )
            assert reply.grpc_status == 0, reply.grpc_message
            names.append(reply.message.application.name)
        applicants.append(applicant)

    # The same person again: the duplicate is found by the document, and refused without repeating it.
    again = create_request("ES", rng=rng, document=applicants[0].document)
    again.application.applicant.full_name = applicants[0].full_name
    answer = await refused(http, edge, analyst, json_format.MessageToDict(again), status=409)
    assert "DUPLICATE_APPLICATION" in answer
    assert_repeats_nothing_of(applicants[0], answer)

    # Refused input that carried personal data: neither the answer nor the logs repeat it.
    invalid = [
        Applicant(marker_name(rng), f"{rng.randrange(10**7, 10**8)}Ñ"),  # not a DNI
        Applicant(marker_name(rng).split()[0], valid_document("IT", rng)),  # one word: not a full name
    ]
    for applicant, country in zip(invalid, ("ES", "IT"), strict=True):
        body = json_format.MessageToDict(create_request(country, rng=rng))
        body["application"]["applicant"] = {
            "fullName": applicant.full_name,
            "identityDocument": applicant.document,
        }
        answer = await refused(http, edge, analyst, body, status=400)
        assert "FULL_NAME_INVALID" in answer or "DOCUMENT" in answer, answer
        assert_repeats_nothing_of(applicant, answer)
    applicants += invalid

    # An application the bureau's sandbox approves, confirmed by its bank through the webhook shim.
    banked = Applicant(marker_name(rng), approving_document("PT"))
    request = create_request("PT", rng=rng, document=banked.document)
    request.application.applicant.full_name = banked.full_name
    banked_name = await create_by_rest(http, edge, analyst, request)
    applicants.append(banked)
    names.append(banked_name)

    async def all_decided() -> bool:
        statuses = [(await application(http, edge, name, analyst))["status"] for name in names]
        return not UNDECIDED & set(statuses)

    await eventually(all_decided, within=60, what="a decision on every application")
    assert (await application(http, edge, banked_name, analyst))["status"] == "APPLICATION_STATUS_APPROVED"
    confirmation = json.dumps(
        {
            "application": banked_name,
            "bank_reference": f"BANK-{uuid.uuid4().hex[:10].upper()}",
            "identity_verified": True,
            "disbursed": True,
            "occurred_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
    ).encode()
    signed = sign(
        [WebhookSecret.parse(edge.secrets.webhook_secret)],
        f"msg_{uuid.uuid4().hex}",
        int(time.time()),
        confirmation,
    )
    async with http.post(
        f"{edge.url}/webhooks/bank-confirmations",
        data=confirmation,
        headers={**signed, "content-type": "application/json"},
    ) as response:
        assert response.status == 200, await response.text()

    # A senior analyst reveals a document: audited, never logged.
    full = f"?view={application_pb2.ApplicationView.Name(application_pb2.APPLICATION_VIEW_FULL)}"
    revealed = await application(http, edge, names[0], edge.token("senior_analyst"), query=full)
    assert revealed["applicant"]["identityDocument"] == applicants[0].document

    logs_dir = edge.config.logs_dir

    # The logs did see this run: the gateway logged the reads of each application, by id only, and the
    # services wrote their DEBUG lines. (Envoy writes its access log out every few hundred ms.)
    async def gateway_logged_every_application() -> bool:
        gateway_log = edge.log("envoy")
        return all(name in gateway_log for name in names)

    await eventually(gateway_logged_every_application, what="the gateway's log of every application")
    assert '"rpc finished"' in edge.log("intake")
    assert '"rpc finished"' in edge.log("bureau-gateway")
    traces = {trace for applicant in applicants for trace in applicant.traces()}
    assert log_lines_with(logs_dir, traces) == []
