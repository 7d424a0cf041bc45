"""Proto <-> domain for BureauService, and the checks that turn a malformed request into field
violations. Nothing here repeats a document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from bureau_gateway.bureaus import Country
from bureau_gateway.circuit import CircuitSnapshot, CircuitState
from bureau_gateway.documents import MAX_DOCUMENT_LENGTH, normalise_document
from bureau_gateway.faults import FaultKind, FaultSpec
from bureau_gateway.reports import BureauReport
from globalcredit.bureau.v1 import bureau_service_pb2
from globalcredit.type.v1 import country_pb2, credit_report_pb2, money_pb2

MAX_ADDED_LATENCY = timedelta(seconds=60)
MAX_FAULT_DURATION = timedelta(days=1)

_COUNTRIES: Mapping[Country, country_pb2.Country.ValueType] = {
    country: country_pb2.Country.Value(f"COUNTRY_{country.value}") for country in Country
}
_COUNTRY_OF = {value: country for country, value in _COUNTRIES.items()}
_STATES: Mapping[CircuitState, bureau_service_pb2.CircuitState.ValueType] = {
    CircuitState.CLOSED: bureau_service_pb2.CIRCUIT_STATE_CLOSED,
    CircuitState.HALF_OPEN: bureau_service_pb2.CIRCUIT_STATE_HALF_OPEN,
    CircuitState.OPEN: bureau_service_pb2.CIRCUIT_STATE_OPEN,
}
_FAULT_KINDS: Mapping[bureau_service_pb2.FaultKind.ValueType, FaultKind] = {
    bureau_service_pb2.FAULT_KIND_NONE: FaultKind.NONE,
    bureau_service_pb2.FAULT_KIND_TIMEOUT: FaultKind.TIMEOUT,
    bureau_service_pb2.FAULT_KIND_OUTAGE: FaultKind.OUTAGE,
    bureau_service_pb2.FAULT_KIND_FLAKY: FaultKind.FLAKY,
}


@dataclass(frozen=True)
class Violation:
    field: str
    reason: str
    description: str


class RequestInvalid(Exception):
    """One or more fields of a request are wrong; each violation names its field."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__(f"{len(violations)} invalid field(s)")
        self.violations = violations


@dataclass(frozen=True)
class ReportRequest:
    country: Country
    document: str
    """Normalised."""
    consent_reference: str


def report_request(request: bureau_service_pb2.GetCreditReportRequest) -> ReportRequest:
    """The checked request; `RequestInvalid` for a missing country or document. The consent is the
    use case's to check, as a precondition rather than a malformed field."""
    violations: list[Violation] = []
    country = _country(request.country, violations)
    document = normalise_document(request.identity_document)
    if not document:
        violations.append(
            Violation("identity_document", "IDENTITY_DOCUMENT_REQUIRED", "the applicant's identity document")
        )
    elif len(document) > MAX_DOCUMENT_LENGTH:
        violations.append(
            Violation(
                "identity_document",
                "IDENTITY_DOCUMENT_TOO_LONG",
                f"at most {MAX_DOCUMENT_LENGTH} characters without separators",
            )
        )
    if violations or country is None:
        raise RequestInvalid(violations)
    return ReportRequest(country, document, request.consent_reference)


def fault_request(request: bureau_service_pb2.InjectFaultRequest) -> tuple[Country, FaultSpec]:
    violations: list[Violation] = []
    country = _country(request.country, violations)
    kind = _FAULT_KINDS.get(request.kind)
    if kind is None:
        violations.append(Violation("kind", "FAULT_KIND_REQUIRED", "NONE, TIMEOUT, OUTAGE or FLAKY"))
    rate = _failure_rate(request.failure_rate, required=kind is FaultKind.FLAKY, violations=violations)
    added_latency = timedelta(0)
    if request.HasField("added_latency"):
        added_latency = _duration(
            request.added_latency, "added_latency", timedelta(0), MAX_ADDED_LATENCY, violations
        )
    duration: timedelta | None = None
    if request.HasField("duration"):
        duration = _duration(
            request.duration, "duration", timedelta(microseconds=1), MAX_FAULT_DURATION, violations
        )
    if violations or country is None or kind is None:
        raise RequestInvalid(violations)
    return country, FaultSpec(kind=kind, failure_rate=rate, added_latency=added_latency, duration=duration)


def _country(value: country_pb2.Country.ValueType, violations: list[Violation]) -> Country | None:
    country = _COUNTRY_OF.get(value)
    if country is None:
        violations.append(
            Violation("country", "COUNTRY_REQUIRED", "one of COUNTRY_ES, _PT, _IT, _MX, _CO, _BR")
        )
    return country


def _failure_rate(text: str, *, required: bool, violations: list[Violation]) -> float:
    if not text.strip():
        if required:
            violations.append(
                Violation("failure_rate", "FAILURE_RATE_REQUIRED", "a decimal from 0 to 1 for FLAKY")
            )
        return 0.0
    try:
        rate = Decimal(text.strip())
    except InvalidOperation:
        rate = Decimal("NaN")
    if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(1):
        violations.append(Violation("failure_rate", "FAILURE_RATE_INVALID", "a decimal from 0 to 1"))
        return 0.0
    return float(rate)  # a probability, compared with random(): float is the right type here


def _duration(
    value: Duration, field: str, low: timedelta, high: timedelta, violations: list[Violation]
) -> timedelta:
    try:
        duration = value.ToTimedelta()
    except (ValueError, OverflowError):
        duration = high + timedelta(seconds=1)
    if not low <= duration <= high:
        violations.append(Violation(field, f"{field.upper()}_OUT_OF_RANGE", f"from {low} to {high}"))
    return duration


def country_to_proto(country: Country) -> country_pb2.Country.ValueType:
    return _COUNTRIES[country]


def report_to_proto(report: BureauReport) -> credit_report_pb2.CreditReport:
    credit = report.credit
    message = credit_report_pb2.CreditReport(
        provider=report.provider,
        total_debt=_money(report.currency, credit.total_debt),
        monthly_obligations=_money(report.currency, credit.monthly_obligations),
        has_defaults=credit.has_defaults,
        account_age_months=credit.account_age_months,
        fallback=report.fallback,
        report_id=report.report_id,
        report_time=_timestamp(report),
    )
    if credit.credit_score is not None:  # absent, not zero: zero is a score on Serasa's scale
        message.credit_score = credit.credit_score
    return message


def circuit_to_proto(snapshot: CircuitSnapshot) -> bureau_service_pb2.Circuit:
    changed = Timestamp()
    changed.FromDatetime(snapshot.state_change_time)
    return bureau_service_pb2.Circuit(
        country=country_to_proto(snapshot.country),
        provider=snapshot.provider,
        state=_STATES[snapshot.state],
        consecutive_failures=snapshot.consecutive_failures,
        state_change_time=changed,
    )


def _money(currency: str, amount: Decimal) -> money_pb2.Money:
    return money_pb2.Money(currency_code=currency, amount=f"{amount:.2f}")


def _timestamp(report: BureauReport) -> Timestamp:
    timestamp = Timestamp()
    timestamp.FromDatetime(report.report_time)
    return timestamp
