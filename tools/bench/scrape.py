"""The services' own Prometheus counters, read before and after a decision phase: evidence that the
pipeline ran clean (no bureau failure, no fallback report, no retried or dead-lettered job, circuits
closed) rather than fast because it cut corners."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

SCRAPE_TIMEOUT_SECONDS = 5.0
SCORING_CONSUMER = "scoring-jobs"
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
"""Sample values by (metric name, labels)."""


class ScrapeError(RuntimeError):
    """A service's /metrics could not be read."""


def parse(text: str) -> Samples:
    """The samples of a Prometheus text exposition (comments and malformed lines skipped)."""
    samples: Samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        found = _SAMPLE.match(line)
        if found is None:
            continue
        name, labels, value = found.groups()
        try:
            number = float(value)
        except ValueError:
            continue
        samples[(name, frozenset(_LABEL.findall(labels or "")))] = number
    return samples


def scrape(url: str) -> Samples:
    try:
        with urllib.request.urlopen(url, timeout=SCRAPE_TIMEOUT_SECONDS) as response:  # noqa: S310
            return parse(response.read().decode())
    except OSError as error:
        raise ScrapeError(f"could not read {url}: {error}") from error


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(value for (metric, have), value in samples.items() if metric == name and wanted <= have)


def by_label(samples: Samples, name: str, label: str) -> dict[str, float]:
    """`name`'s samples summed by the value of `label`."""
    sums: dict[str, float] = {}
    for (metric, have), value in samples.items():
        if metric == name:
            key = dict(have).get(label, "")
            sums[key] = sums.get(key, 0.0) + value
    return sums


@dataclass(frozen=True)
class PipelineHealth:
    """What bureau-gateway and scoring counted during a phase."""

    bureau_attempts: Mapping[str, int]
    """Bureau call attempts by outcome (ok, timeout, unavailable, refused) plus fallback reports."""
    circuits_not_closed: int
    """Circuits half-open or open at the end of the phase."""
    jobs: Mapping[str, int]
    """Scoring jobs by result (decided, over, dead_lettered)."""
    job_settlements: Mapping[str, int]
    """Scoring's job messages by settlement: ack, nak (retried), term (given up)."""

    @property
    def problems(self) -> list[str]:
        """Everything that should not happen with a healthy simulated bureau, in words; empty if none."""
        found = [
            f"{count} bureau {outcome}"
            for outcome, count in self.bureau_attempts.items()
            if outcome != "ok" and count
        ]
        if self.circuits_not_closed:
            found.append(f"{self.circuits_not_closed} circuit(s) not closed")
        found += [
            f"{count} job(s) {result}" for result, count in self.jobs.items() if result != "decided" and count
        ]
        found += [
            f"{count} job message(s) {outcome}"
            for outcome, count in self.job_settlements.items()
            if outcome != "ack" and count
        ]
        return found


def pipeline_health(before: Mapping[str, Samples], after: Mapping[str, Samples]) -> PipelineHealth:
    """The counters' growth between two scrapes of {"bureau-gateway": …, "scoring": …}."""

    def grown(service: str, name: str, label: str, **labels: str) -> dict[str, int]:
        old = _filtered(before.get(service, {}), labels)
        new = _filtered(after.get(service, {}), labels)
        sums_before, sums_after = by_label(old, name, label), by_label(new, name, label)
        return {
            key: round(value - sums_before.get(key, 0.0))
            for key, value in sorted(sums_after.items())
            if round(value - sums_before.get(key, 0.0))
        }

    bureau = after.get("bureau-gateway", {})
    not_closed = sum(1 for (name, _), value in bureau.items() if name == "bureau_circuit_state" and value)
    return PipelineHealth(
        bureau_attempts=grown("bureau-gateway", "bureau_calls_total", "outcome"),
        circuits_not_closed=not_closed,
        jobs=grown("scoring", "scoring_jobs_total", "result"),
        job_settlements=grown(
            "scoring", "jetstream_messages_handled_total", "outcome", consumer=SCORING_CONSUMER
        ),
    )


def _filtered(samples: Samples, labels: Mapping[str, str]) -> Samples:
    wanted = set(labels.items())
    return {key: value for key, value in samples.items() if wanted <= key[1]}
