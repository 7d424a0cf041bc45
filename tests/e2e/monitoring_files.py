"""What the observability tests read: the chart's dashboard and alert rules, the runbooks, PromQL (for the
metric names it uses) and Prometheus' text format (for the metric families a service exports)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "helm/global-credit/files/dashboards/global-credit.json"
ALERTS = ROOT / "helm/global-credit/files/prometheus/alerts.yaml"
RUNBOOKS = ROOT / "docs/runbooks.md"

# PromQL words that look like metric names: aggregation operators, binary and set operators, modifiers.
PROMQL_KEYWORDS = frozenset(
    {
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
        "quantile", "limitk", "limit_ratio", "and", "or", "unless", "atan2", "by", "without", "on",
        "ignoring", "group_left", "group_right", "bool", "offset", "inf", "nan",
    }
)  # fmt: skip
# Series Prometheus makes itself for every target, not exported by a service.
PROMETHEUS_OWN_SERIES = frozenset({"up"})

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GRAFANA_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")
_LABEL_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_LABEL_LIST = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.:])([A-Za-z_:][\w:]*)\s*(\()?")
_LABEL_VALUES = re.compile(r"\s*label_values\(\s*(?:(?P<query>.+?)\s*,\s*)?(?P<label>\w+)\s*\)\s*")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression (or a Grafana `label_values(...)` query) selects."""
    variable_query = _LABEL_VALUES.fullmatch(expr)
    if variable_query is not None:
        return metric_names(variable_query["query"]) if variable_query["query"] else set()
    text = _STRING.sub('""', expr)
    text = _GRAFANA_VARIABLE.sub(" ", text)
    text = _LABEL_MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _LABEL_LIST.sub(" ", text)
    return {
        match[1]
        for match in _IDENTIFIER.finditer(text)
        # A name followed by "(" is a function; the rest are metric names unless they are keywords.
        if match[2] is None and match[1].lower() not in PROMQL_KEYWORDS
    }


_TYPE_LINE = re.compile(r"^# TYPE (\S+) (\S+)$", re.MULTILINE)
_HISTOGRAM_SERIES = {
    "bucket": {"histogram"},
    "sum": {"histogram", "summary"},
    "count": {"histogram", "summary"},
}


def metric_families(exposition: str) -> dict[str, str]:
    """Family name → type, from the `# TYPE` lines of a /metrics page: a family is listed even before its
    first labelled sample exists. Counters are named with `_total`, as Prometheus stores them."""
    return {name: kind for name, kind in _TYPE_LINE.findall(exposition)}


def family_of(name: str, families: dict[str, str]) -> str | None:
    """The exported family a series name in a query belongs to (`x_bucket` → histogram `x`), or None."""
    if name in families:
        return name
    base, _, suffix = name.rpartition("_")
    if families.get(base) in _HISTOGRAM_SERIES.get(suffix, set()):
        return base
    return None


def dashboard_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, query) for every panel target and every query variable of a dashboard."""
    queries = [
        (f"panel {panel.get('title')!r}", str(target.get("expr", "")))
        for panel in dashboard_panels(dashboard)
        for target in panel.get("targets", [])
    ]
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            query = variable["query"]
            queries.append(
                (f"variable {variable['name']!r}", query["query"] if isinstance(query, dict) else query)
            )
    return queries


def dashboard_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, rows included, and the panels inside collapsed rows."""
    panels: list[dict[str, Any]] = []
    for panel in dashboard.get("panels", []):
        panels.append(panel)
        panels.extend(panel.get("panels", []))
    return panels


def load_dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def load_rules() -> dict[str, Any]:
    return yaml.safe_load(ALERTS.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def alert_rules(rules: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for group in rules["groups"] for rule in group["rules"]]


def markdown_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown document."""
    anchors = set()
    in_code = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (heading := re.match(r"^#{1,6}\s+(.+?)\s*#*\s*$", line)):
            text = re.sub(r"[^\w\- ]", "", heading[1].strip().lower())
            anchors.add(text.replace(" ", "-"))
    return anchors
