"""The bank confirmation payload: strict JSON parsing and field validation that names every bad field.

Strict on purpose: money only as decimal strings (never a float), booleans only as JSON booleans,
timestamps only as RFC 3339 with an offset, and unknown fields refused, so a bank never believes a field
is honoured when it is not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from svckit.errors import FieldViolation

APPLICATION_PREFIX = "applications/"
FIELDS = (
    "application",
    "bank_reference",
    "identity_verified",
    "disbursed",
    "amount_disbursed",
    "occurred_at",
)
MONEY_FIELDS = ("currency_code", "amount")
MAX_BANK_REFERENCE = 200  # intake's limit
# A bank's clock may run a little ahead of ours; further ahead, `occurred_at` is not a fact yet.
FUTURE_SKEW = timedelta(minutes=5)

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_CURRENCY = re.compile(r"[A-Z]{3}")
# NUMERIC(14,2) in intake: at most 12 integer digits and 2 fraction digits; no sign, no exponent.
_AMOUNT = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?")
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Listing more unknown fields than this helps nobody and lets a body inflate the answer.
MAX_UNKNOWN_FIELDS_LISTED = 10
MAX_FIELD_NAME_ECHOED = 64

T = TypeVar("T")

# Reasons of a 400; stable, part of the shim's HTTP contract.
MALFORMED_JSON = "MALFORMED_JSON"
INVALID_FIELDS = "INVALID_FIELDS"


@dataclass(frozen=True)
class Money:
    currency_code: str
    amount: Decimal


@dataclass(frozen=True)
class BankConfirmation:
    """A bank's confirmation, validated; `application` is always `applications/{uuid}` in lower case."""

    application: str
    bank_reference: str
    identity_verified: bool
    disbursed: bool
    amount_disbursed: Money | None
    occurred_at: datetime


class PayloadInvalid(Exception):
    """The body is not the JSON we accept; `violations` names each bad field (none for broken JSON)."""

    def __init__(self, reason: str, message: str, violations: tuple[FieldViolation, ...] = ()) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.violations = violations


def parse_confirmation(body: bytes, *, now: datetime | None = None) -> BankConfirmation:
    """The confirmation in `body`, or `PayloadInvalid` listing every problem at once."""
    document = _load_json(body)
    if not isinstance(document, dict):
        raise PayloadInvalid(MALFORMED_JSON, "the body must be a JSON object")
    fields = _Fields(document)
    application = fields.required("application", _application_name)
    bank_reference = fields.required("bank_reference", _bank_reference)
    identity_verified = fields.required("identity_verified", _boolean)
    disbursed = fields.required("disbursed", _boolean)
    occurred_at = fields.required("occurred_at", lambda value: _occurred_at(value, now or datetime.now(UTC)))
    amount = None
    if document.get("amount_disbursed") is not None:
        amount = _money(document["amount_disbursed"], "amount_disbursed", fields)
    if amount is not None and disbursed is False:
        fields.violation(
            "amount_disbursed", "AMOUNT_WITHOUT_DISBURSEMENT", "only allowed when disbursed is true"
        )
    fields.refuse_unknown(FIELDS, prefix="")
    if fields.violations:
        count = len(fields.violations)
        raise PayloadInvalid(
            INVALID_FIELDS,
            f"the confirmation is invalid: {count} field{'s' if count > 1 else ''} wrong",
            tuple(fields.violations),
        )
    # No violation means every required field parsed.
    assert application is not None
    assert bank_reference is not None
    assert identity_verified is not None
    assert disbursed is not None
    assert occurred_at is not None
    return BankConfirmation(
        application=application,
        bank_reference=bank_reference,
        identity_verified=identity_verified,
        disbursed=disbursed,
        amount_disbursed=amount,
        occurred_at=occurred_at,
    )


class _Invalid(ValueError):
    """One field's problem, raised by a field parser and recorded against the field by `_Fields`."""

    def __init__(self, reason: str, description: str) -> None:
        super().__init__(description)
        self.reason = reason
        self.description = description


class _Fields:
    """Reads fields out of one JSON object, collecting a violation per bad field instead of stopping."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.violations: list[FieldViolation] = []

    def violation(self, field: str, reason: str, description: str) -> None:
        self.violations.append(FieldViolation(field=field, description=description, reason=reason))

    def required(self, name: str, parse: Callable[[Any], T]) -> T | None:
        """The parsed field; a missing (or null) field is a violation."""
        if self.document.get(name) is None:
            self.violation(name, "FIELD_REQUIRED", "is required")
            return None
        try:
            return parse(self.document[name])
        except _Invalid as error:
            self.violation(name, error.reason, error.description)
            return None

    def refuse_unknown(
        self, known: tuple[str, ...], *, prefix: str, document: dict[str, Any] | None = None
    ) -> None:
        unknown = sorted(set(self.document if document is None else document) - set(known))
        for name in unknown[:MAX_UNKNOWN_FIELDS_LISTED]:
            self.violation(
                f"{prefix}{name[:MAX_FIELD_NAME_ECHOED]}",
                "UNKNOWN_FIELD",
                f"unknown field; accepted: {', '.join(known)}",
            )


def _load_json(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")  # JSON on the wire is UTF-8 (RFC 8259); no guessing of encodings
        return json.loads(
            text,
            object_pairs_hook=_object_without_duplicates,
            parse_float=Decimal,  # no float ever, even for a field we then refuse
            parse_constant=_no_constants,
        )
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PayloadInvalid(MALFORMED_JSON, "the body is not valid UTF-8 JSON") from None


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # With a repeated key, which value counts would depend on the parser; refuse rather than pick one.
    document = dict(pairs)
    if len(document) != len(pairs):
        raise ValueError("duplicate key")
    return document


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _application_name(value: Any) -> str:
    if isinstance(value, str):
        candidate = value.removeprefix(APPLICATION_PREFIX)
        if _UUID.fullmatch(candidate):
            return APPLICATION_PREFIX + candidate.lower()
    raise _Invalid("INVALID_APPLICATION_NAME", "must be applications/{id} or the bare id, the id a UUID")


def _bank_reference(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid("INVALID_BANK_REFERENCE", "must be a non-empty string")
    if len(value) > MAX_BANK_REFERENCE or _CONTROL.search(value):
        raise _Invalid(
            "INVALID_BANK_REFERENCE",
            f"must be at most {MAX_BANK_REFERENCE} characters, without control characters",
        )
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid("INVALID_BOOLEAN", "must be true or false")
    return value


def _occurred_at(value: Any, now: datetime) -> datetime:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise _Invalid(
            "INVALID_TIMESTAMP", "must be an RFC 3339 timestamp with an offset, e.g. 2026-03-01T10:15:00Z"
        )
    try:
        moment = datetime.fromisoformat(value.upper()).astimezone(UTC)
    except ValueError:
        raise _Invalid("INVALID_TIMESTAMP", "is not a valid date and time") from None
    if moment > now + FUTURE_SKEW:
        raise _Invalid("TIMESTAMP_IN_FUTURE", "must not be in the future")
    return moment


def _money(value: Any, name: str, fields: _Fields) -> Money | None:
    """The amount, or None after recording a violation for each bad part."""
    if not isinstance(value, dict):
        fields.violation(
            name, "INVALID_MONEY", 'must be an object {"currency_code": "EUR", "amount": "12000.00"}'
        )
        return None
    before = len(fields.violations)
    currency = value.get("currency_code")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        fields.violation(
            f"{name}.currency_code", "INVALID_CURRENCY_CODE", "must be an ISO 4217 code, e.g. EUR"
        )
    amount = value.get("amount")
    if not isinstance(amount, str):
        # A JSON number may have passed through a float somewhere on the bank's side; refuse it.
        fields.violation(f"{name}.amount", "INVALID_AMOUNT", 'must be a decimal string, e.g. "12000.00"')
    elif not _AMOUNT.fullmatch(amount):
        fields.violation(
            f"{name}.amount",
            "INVALID_AMOUNT",
            "must be a non-negative decimal string with at most 12 integer and 2 fraction digits",
        )
    fields.refuse_unknown(MONEY_FIELDS, prefix=f"{name}.", document=value)
    if len(fields.violations) != before:
        return None
    assert isinstance(currency, str)
    assert isinstance(amount, str)
    return Money(currency_code=currency, amount=Decimal(amount))
