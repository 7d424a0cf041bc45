"""Observability against the running stack: after some traffic (applications in every country decided
while a watch is open, bank webhooks), every service's /metrics exports each metric the Grafana dashboard
and the Prometheus alert rules use; both files are well formed and every alert has its runbook; and no
metric carries PII or an id.

The dashboard and the rules ship in the Helm chart (helm/global-credit/files/); runbooks in
docs/runbooks.md."""

from __future__ import annotations

import asyncio
import json
import random
import re
import string
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import pytest
from edge_stack import EdgeStack, approving_document
from google.protobuf import json_format
from grpc_web_client import GrpcWebClient
from monitoring_files import (
    PROMETHEUS_OWN_SERIES,
    RUNBOOKS,
    alert_rules,
    dashboard_panels,
    dashboard_queries,
    family_of,
    load_dashboard,
    load_rules,
    markdown_anchors,
    metric_families,
    metric_names,
)
from prometheus_client.parser import text_string_to_metric_families

from devstack.config import PortSetting
from devstack.services import (
    BUREAU_METRICS_PORT,
    INTAKE_METRICS_PORT,
    NOTIFIER_METRICS_PORT,
    SCORING_METRICS_PORT,
    WEBHOOK_SHIM_METRICS_PORT,
)
from globalcredit.notifier.v1 import notifier_service_pb2
from samples.applications import create_request
from samples.documents import valid_document
from svckit.testing.polling import eventually
from webhook_shim.signatures import WebhookSecret, sign

METRICS_PORTS: dict[str, PortSetting] = {
    "intake": INTAKE_METRICS_PORT,
    "scoring": SCORING_METRICS_PORT,
    "bureau-gateway": BUREAU_METRICS_PORT,
    "notifier": NOTIFIER_METRICS_PORT,
    "webhook-shim": WEBHOOK_SHIM_METRICS_PORT,
}
COUNTRIES = ("ES", "PT", "IT", "MX", "CO", "BR")
CONFIRMED_COUNTRY = "CO"
DECIDED = {"APPLICATION_STATUS_APPROVED", "APPLICATION_STATUS_REJECTED", "APPLICATION_STATUS_UNDER_REVIEW"}
WATCH = "/globalcredit.notifier.v1.NotifierService/WatchApplications"

# Label names a metric may carry: each has a handful of values, none an id, a name or a document.
ALLOWED_LABELS = frozenset(
    {
        "country", "outcome", "status", "reason", "result", "state", "provider", "source", "consumer",
        "grpc_service", "grpc_method", "grpc_code", "grpc_type", "le", "quantile",
        # prometheus_client's own process and runtime collectors
        "generation", "implementation", "major", "minor", "patchlevel", "version",
    }
)  # fmt: skip
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
# What SPEC §11 asks the dashboard to show, by the metric that shows it.
SPEC_METRICS = {
    "RPC rate and errors per method": "grpc_server_handled_total",
    "RPC latency per method": "grpc_server_handling_seconds",
    "applications created per country": "intake_applications_created_total",
    "decisions per country and outcome": "scoring_decisions_total",
    "submit-to-decision latency": "scoring_submit_to_decision_seconds",
    "bureau calls": "bureau_calls_total",
    "bureau latency": "bureau_call_seconds",
    "circuit state per country": "bureau_circuit_state",
    "outbox backlog": "intake_outbox_backlog_events",
    "outbox age": "intake_outbox_oldest_event_age_seconds",
    "scoring's consumer lag": "scoring_jobs_pending",
    "notifier's consumer lag": "notifier_feed_pending_events",
    "dead letters": "scoring_dead_letters_total",
    "webhook outcomes": "webhook_deliveries_total",
    "active watch streams": "notifier_active_watchers",
}


@dataclass(frozen=True)
class Traffic:
    """What the traffic put in the stack, to look for in the metrics."""

    applications: tuple[str, ...]
    applicants: tuple[str, ...]
    documents: tuple[str, ...]


def _unusual_name() -> str:
    """An applicant name no metric could contain by chance."""
    letters = "".join(random.choices(string.ascii_lowercase, k=10))
    return f"Observa {letters.capitalize()} Zyx"


async def _create(
    http: aiohttp.ClientSession, edge: EdgeStack, token: str, country: str, name: str, document: str
) -> str:
    request = create_request(country, document=document)
    request.application.applicant.full_name = name
    async with http.post(
        f"{edge.url}/v1/applications",
        json=json_format.MessageToDict(request),
        headers={"authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["application"]["name"])


async def _status(http: aiohttp.ClientSession, edge: EdgeStack, token: str, name: str) -> str:
    async with http.get(f"{edge.url}/v1/{name}", headers={"authorization": f"Bearer {token}"}) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["application"]["status"])


async def _bank_webhook(http: aiohttp.ClientSession, edge: EdgeStack, name: str, *, forged: bool) -> int:
    body = json.dumps(
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
        **sign([secret], f"msg_{uuid.uuid4().hex}", int(time.time()), body),
        "content-type": "application/json",
    }
    if forged:
        headers["webhook-signature"] = "v1," + "A" * 43 + "="
    async with http.post(f"{edge.url}/webhooks/bank-confirmations", data=body, headers=headers) as response:
        return response.status


@pytest.fixture(scope="module")
async def traffic(edge: EdgeStack, http: aiohttp.ClientSession, grpc_web: GrpcWebClient) -> Traffic:
    """One application per country through the gateway, decided while a watch is open; a rule set read; a
    signed bank confirmation that completes one more, approved application, and a forged one."""
    token = edge.token("analyst")
    # Documents of our own, so no other test meets "an open application already exists" for them; the
    # bureau's sandbox identity that approves in CO (no other test uses it) ends COMPLETED, not open.
    rng = random.Random()
    countries = (*COUNTRIES, CONFIRMED_COUNTRY)
    documents = (
        *(valid_document(country, rng) for country in COUNTRIES),
        approving_document(CONFIRMED_COUNTRY),
    )
    applicants = tuple(_unusual_name() for _ in countries)
    watchers = await edge.live_watchers(http)
    async with grpc_web.stream(
        WATCH,
        notifier_service_pb2.WatchApplicationsRequest(),
        notifier_service_pb2.WatchApplicationsResponse,
        token=edge.token("analyst"),
    ) as watch:
        assert watch.reply.http_status == 200
        await eventually(lambda: _live_watchers(edge, http, watchers + 1), what="the watch going live")
        names = await asyncio.gather(
            *(
                _create(http, edge, token, country, name, document)
                for country, name, document in zip(countries, applicants, documents, strict=True)
            )
        )

        async def decided() -> bool:
            statuses = await asyncio.gather(*(_status(http, edge, token, name) for name in names))
            return set(statuses) <= DECIDED and statuses[-1] == "APPLICATION_STATUS_APPROVED"

        await eventually(decided, what="every application decided")
    # The other modules' watch tests start from no watcher at all.
    await eventually(lambda: _live_watchers(edge, http, watchers), what="the watch ending")

    async with http.get(
        f"{edge.url}/v1/ruleSets/COUNTRY_ES", headers={"authorization": f"Bearer {token}"}
    ) as response:
        assert response.status == 200, await response.text()
    assert await _bank_webhook(http, edge, names[-1], forged=True) == 401
    assert await _bank_webhook(http, edge, names[-1], forged=False) == 200
    assert await _status(http, edge, token, names[-1]) == "APPLICATION_STATUS_COMPLETED"
    return Traffic(applications=tuple(names), applicants=applicants, documents=documents)


async def _live_watchers(edge: EdgeStack, http: aiohttp.ClientSession, count: int) -> bool:
    return await edge.live_watchers(http) == count


async def _scrape(http: aiohttp.ClientSession, edge: EdgeStack, service: str) -> str:
    async with http.get(f"http://127.0.0.1:{edge.config.port(METRICS_PORTS[service])}/metrics") as response:
        assert response.status == 200, f"{service}: /metrics answered {response.status}"
        return await response.text()


@pytest.fixture(scope="module")
async def scrapes(traffic: Traffic, edge: EdgeStack, http: aiohttp.ClientSession) -> dict[str, str]:
    """Every service's /metrics page, after the traffic."""
    pages = await asyncio.gather(*(_scrape(http, edge, service) for service in METRICS_PORTS))
    return dict(zip(METRICS_PORTS, pages, strict=True))


@pytest.fixture(scope="module")
def exported(scrapes: dict[str, str]) -> dict[str, tuple[str, str]]:
    """Metric family → (type, the service exporting it)."""
    families: dict[str, tuple[str, str]] = {}
    for service, page in scrapes.items():
        for name, kind in metric_families(page).items():
            families.setdefault(name, (kind, service))
    return families


def _missing(queries: list[tuple[str, str]], exported: dict[str, tuple[str, str]]) -> list[str]:
    types = {name: kind for name, (kind, _) in exported.items()}
    missing = []
    for where, query in queries:
        names = metric_names(query)
        if not names:
            missing.append(f"{where}: selects no metric: {query}")
        missing.extend(
            f"{where}: {name}"
            for name in sorted(names - PROMETHEUS_OWN_SERIES)
            if family_of(name, types) is None
        )
    return missing


# --- metrics exported --------------------------------------------------------------------------------------


async def test_every_metric_the_dashboard_uses_is_exported_by_a_service(
    exported: dict[str, tuple[str, str]],
) -> None:
    assert _missing(dashboard_queries(load_dashboard()), exported) == []


async def test_every_metric_the_alert_rules_use_is_exported_by_a_service(
    exported: dict[str, tuple[str, str]],
) -> None:
    queries = [(f"alert {rule['alert']}", rule["expr"]) for rule in alert_rules(load_rules())]
    assert _missing(queries, exported) == []


async def test_each_service_exports_its_own_metrics(exported: dict[str, tuple[str, str]]) -> None:
    owners = {
        "intake_applications_created_total": "intake",
        "intake_outbox_oldest_event_age_seconds": "intake",
        "scoring_decisions_total": "scoring",
        "scoring_jobs_pending": "scoring",
        "scoring_jobs_ack_pending": "scoring",
        "jetstream_messages_handled_total": "scoring",
        "bureau_circuit_state": "bureau-gateway",
        "notifier_active_watchers": "notifier",
        "notifier_feed_pending_events": "notifier",
        "webhook_deliveries_total": "webhook-shim",
    }
    assert {name: exported.get(name, ("", ""))[1] for name in owners} == owners
    # The RPC metrics come from svckit, in every gRPC service.
    assert exported["grpc_server_handling_seconds"][0] == "histogram"


async def test_scoring_reads_its_job_consumer_lag_from_jetstream(
    traffic: Traffic, edge: EdgeStack, http: aiohttp.ClientSession
) -> None:
    async def lag() -> dict[str, float] | None:
        values = _values(await _scrape(http, edge, "scoring"))
        read_at = values.get("scoring_jobs_lag_read_timestamp_seconds", 0.0)
        # Read every 5 s; recent means the worker is reading it now.
        return values if time.time() - read_at < 30 else None

    values = await eventually(lag, within=15.0, what="scoring reading its consumer's lag")
    assert isinstance(values, dict)
    assert values["scoring_jobs_pending"] >= 0
    assert values["scoring_jobs_ack_pending"] >= 0


def _values(page: str) -> dict[str, float]:
    """The unlabelled samples of a page."""
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
        if not sample.labels
    }


async def test_the_traffic_shows_in_the_metrics(scrapes: dict[str, str]) -> None:
    labelled = {
        (sample.name, tuple(sorted(sample.labels.items())))
        for page in scrapes.values()
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }
    names = {name for name, _ in labelled}
    assert {
        ("intake_applications_created_total", (("country", country),)) for country in COUNTRIES
    } <= labelled
    decided_in = {dict(labels)["country"] for name, labels in labelled if name == "scoring_decisions_total"}
    assert set(COUNTRIES) <= decided_in
    assert {
        "scoring_submit_to_decision_seconds_bucket",
        "bureau_call_seconds_bucket",
        "grpc_server_handling_seconds_bucket",
        "jetstream_message_handling_seconds_bucket",
    } <= names
    assert ("webhook_deliveries_total", (("outcome", "bad_signature"),)) in labelled


# --- no PII, no ids ----------------------------------------------------------------------------------------


async def test_no_metric_label_carries_pii_or_an_id(scrapes: dict[str, str], traffic: Traffic) -> None:
    ids = tuple(name.rpartition("/")[2] for name in traffic.applications)
    secrets = (*traffic.applicants, *traffic.documents, *ids, *traffic.applications)
    # Each word of the names, lest a metric keep only a surname.
    secrets += tuple(word for name in traffic.applicants for word in name.split() if len(word) > 3)
    assert _label_problems(scrapes, secrets) == []


def test_the_label_check_finds_a_name_an_id_and_a_label_off_the_list() -> None:
    page = (
        "# TYPE x_total counter\n"
        'x_total{country="ES",applicant="Ana Observa Pérez"} 1.0\n'
        'x_total{country="ES",outcome="0190f7c4-8a3b-7c12-9d4e-5f6a7b8c9d0e"} 1.0\n'
        'x_total{country="12345678Z",outcome="APPROVE"} 1.0\n'
    )
    problems = _label_problems({"svc": page}, ("Observa", "12345678Z"))
    assert len(problems) == 4, problems  # the label `applicant`, its value, the UUID, the document


def _label_problems(pages: dict[str, str], secrets: tuple[str, ...]) -> list[str]:
    problems = []
    for service, page in pages.items():
        for family in text_string_to_metric_families(page):
            for sample in family.samples:
                for label, value in sample.labels.items():
                    where = f"{service} {sample.name}{{{label}={value!r}}}"
                    if label not in ALLOWED_LABELS:
                        problems.append(f"{where}: label not allowed")
                    if UUID.search(value) or any(secret.lower() in value.lower() for secret in secrets):
                        problems.append(f"{where}: an id or PII")
    return problems


# --- the dashboard -----------------------------------------------------------------------------------------


def test_the_dashboard_is_a_well_formed_grafana_dashboard() -> None:
    dashboard = load_dashboard()
    panels = dashboard_panels(dashboard)
    assert dashboard["schemaVersion"] >= 36
    assert dashboard["uid"]
    assert dashboard["title"]
    variables = {variable["name"]: variable for variable in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    problems = []
    for panel in panels:
        title = panel.get("title")
        if not title:
            problems.append(f"panel {panel['id']}: no title")
        if panel["type"] == "row":
            continue
        if panel.get("datasource") != {"type": "prometheus", "uid": "${datasource}"}:
            problems.append(f"{title}: datasource is not ${{datasource}}")
        targets = panel.get("targets", [])
        if not targets or not all(str(target.get("expr", "")).strip() for target in targets):
            problems.append(f"{title}: a target without a query")
        if any(target.get("datasource", panel["datasource"]) != panel["datasource"] for target in targets):
            problems.append(f"{title}: a target with another datasource")
        if not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            problems.append(f"{title}: no unit")
        position = panel["gridPos"]
        if position["x"] + position["w"] > 24:
            problems.append(f"{title}: wider than the dashboard")
    assert problems == []


def test_the_dashboard_names_no_datasource_but_its_variable() -> None:
    text = json.dumps(load_dashboard())
    uids = set(re.findall(r'"uid": "([^"]*)"', text)) - {"global-credit-core"}
    # Grafana's built-in annotations source is not a datasource of any installation.
    assert uids <= {"${datasource}", "-- Grafana --"}


def test_the_dashboard_shows_every_metric_the_spec_asks_for() -> None:
    used = {name for _, query in dashboard_queries(load_dashboard()) for name in metric_names(query)}
    used |= {name.removesuffix("_bucket") for name in used}
    assert {what: name for what, name in SPEC_METRICS.items() if name not in used} == {}


def test_circuit_panels_name_the_circuit_states() -> None:
    # The panels showing states (not a count of circuits).
    circuit_panels = [
        panel
        for panel in dashboard_panels(load_dashboard())
        for target in panel.get("targets", [])[:1]
        if "bureau_circuit_state" in target["expr"] and "count(" not in target["expr"]
    ]
    assert len(circuit_panels) >= 2
    for panel in circuit_panels:
        mappings = panel["fieldConfig"]["defaults"]["mappings"]
        texts = {
            value: option["text"] for mapping in mappings for value, option in mapping["options"].items()
        }
        assert texts == {"0": "closed", "1": "half-open", "2": "open"}, panel["title"]


# --- the alert rules and their runbooks --------------------------------------------------------------------


def test_every_alert_rule_is_complete_and_links_to_its_runbook() -> None:
    rules = load_rules()
    anchors = markdown_anchors(RUNBOOKS.read_text(encoding="utf-8"))
    assert all(group.get("name") and group.get("rules") for group in rules["groups"])
    problems = []
    for rule in alert_rules(rules):
        name = rule.get("alert", "?")
        annotations = rule.get("annotations") or {}
        if not str(rule.get("expr", "")).strip():
            problems.append(f"{name}: no expr")
        if not re.fullmatch(r"\d+[smh]", str(rule.get("for", ""))):
            problems.append(f"{name}: no `for` duration")
        if (rule.get("labels") or {}).get("severity") not in {"critical", "warning"}:
            problems.append(f"{name}: severity must be critical or warning")
        problems.extend(
            f"{name}: no {key}"
            for key in ("summary", "description", "runbook_url")
            if not annotations.get(key)
        )
        path, _, anchor = str(annotations.get("runbook_url", "")).partition("#")
        if path != "docs/runbooks.md" or anchor not in anchors:
            problems.append(
                f"{name}: runbook_url {annotations.get('runbook_url')!r} is not a runbook section"
            )
        elif anchor != name.lower():
            problems.append(f"{name}: links to another alert's section ({anchor})")
    assert problems == []
    names = [rule["alert"] for rule in alert_rules(rules)]
    assert len(names) == len(set(names)), "alert names must be unique"


def test_every_runbook_section_is_an_alert_of_the_rules() -> None:
    sections = re.findall(r"^## (\S+)$", RUNBOOKS.read_text(encoding="utf-8"), re.MULTILINE)
    assert sorted(sections) == sorted(rule["alert"] for rule in alert_rules(load_rules()))


def test_the_rules_cover_what_must_page_or_warn() -> None:
    names = {name for rule in alert_rules(load_rules()) for name in metric_names(rule["expr"])}
    expected = {
        "grpc_server_handled_total",
        "grpc_server_handling_seconds_bucket",
        "scoring_submit_to_decision_seconds_bucket",
        "bureau_circuit_state",
        "intake_outbox_oldest_event_age_seconds",
        "scoring_jobs_pending",
        "scoring_dead_letters_total",
        "webhook_deliveries_total",
        "notifier_active_watchers",
        "up",
    }
    assert expected <= names


# --- reading PromQL ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            "histogram_quantile(0.99, sum by (grpc_service, le) (rate(grpc_server_handling_seconds_bucket"
            '{grpc_method!~"Watch.*", grpc_service=~"$grpc_service"}[$__rate_interval]))) > 0.5',
            {"grpc_server_handling_seconds_bucket"},
        ),
        (
            "sum by (reason) (increase(scoring_dead_letters_total[15m])) > 0 or sum by (reason) "
            "(scoring_dead_letters_total unless scoring_dead_letters_total offset 15m)",
            {"scoring_dead_letters_total"},
        ),
        ("changes(clamp_max(bureau_circuit_state, 1)[30m:30s]) >= 6", {"bureau_circuit_state"}),
        (
            "time() - max(scoring_jobs_lag_read_timestamp_seconds) > 1e3",
            {"scoring_jobs_lag_read_timestamp_seconds"},
        ),
        (
            "max(a_pending + b_ack) / on (instance) group_left (country) c_info",
            {"a_pending", "b_ack", "c_info"},
        ),
        ('up{job=~".*(intake|scoring).*"} == 0', {"up"}),
        ("label_values(intake_applications_created_total, country)", {"intake_applications_created_total"}),
    ],
)
def test_metric_names_are_read_from_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_histogram_series_belong_to_their_family() -> None:
    families = {"x_seconds": "histogram", "y_total": "counter", "z": "gauge"}
    assert family_of("x_seconds_bucket", families) == "x_seconds"
    assert family_of("x_seconds_count", families) == "x_seconds"
    assert family_of("y_total", families) == "y_total"
    assert family_of("y", families) is None  # Prometheus stores a counter's samples as y_total only
    assert family_of("z_bucket", families) is None
