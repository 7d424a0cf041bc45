"""Parsing and validating the confirmation payload, without a server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from webhook_shim.payload import (
    INVALID_FIELDS,
    MALFORMED_JSON,
    BankConfirmation,
    Money,
    PayloadInvalid,
    parse_confirmation,
)

NOW = datetime(2026, 3, 1, 10, 15, tzinfo=UTC)
ID = "0190f7c4-8a3b-7c12-9d4e-5f6a7b8c9d0e"


def payload(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "application": f"applications/{ID}",
        "bank_reference": "BANK-REF-0001",
        "identity_verified": True,
        "disbursed": True,
        "amount_disbursed": {"currency_code": "EUR", "amount": "12000.00"},
        "occurred_at": "2026-03-01T10:14:00Z",
    }
    for name, value in changes.items():
        if value is _ABSENT:
            document.pop(name)
        else:
            document[name] = value
    return document


_ABSENT = object()
BAD_CURRENCY = "INVALID_CURRENCY_CODE"


def parse(document: Any) -> BankConfirmation:
    return parse_confirmation(json.dumps(document).encode(), now=NOW)


def violations(document: Any) -> dict[str, str]:
    with pytest.raises(PayloadInvalid) as refused:
        parse(document)
    assert refused.value.reason == INVALID_FIELDS
    return {v.field: v.reason for v in refused.value.violations}


def test_a_full_confirmation_parses() -> None:
    assert parse(payload()) == BankConfirmation(
        application=f"applications/{ID}",
        bank_reference="BANK-REF-0001",
        identity_verified=True,
        disbursed=True,
        amount_disbursed=Money("EUR", Decimal("12000.00")),
        occurred_at=datetime(2026, 3, 1, 10, 14, tzinfo=UTC),
    )


def test_the_bare_id_names_the_application_and_case_is_normalised() -> None:
    assert parse(payload(application=ID.upper())).application == f"applications/{ID}"


def test_the_amount_is_optional() -> None:
    assert parse(payload(amount_disbursed=_ABSENT)).amount_disbursed is None
    assert parse(payload(amount_disbursed=None)).amount_disbursed is None


@pytest.mark.parametrize(
    ("occurred_at", "expected"),
    [
        ("2026-03-01T12:14:00+02:00", datetime(2026, 3, 1, 10, 14, tzinfo=UTC)),
        ("2026-03-01t10:14:00.123456789z", datetime(2026, 3, 1, 10, 14, 0, 123456, tzinfo=UTC)),
        ("2026-03-01T10:19:59Z", datetime(2026, 3, 1, 10, 19, 59, tzinfo=UTC)),  # a bank clock a bit ahead
    ],
)
def test_rfc3339_times_are_read_in_utc(occurred_at: str, expected: datetime) -> None:
    assert parse(payload(occurred_at=occurred_at)).occurred_at == expected


@pytest.mark.parametrize(
    "body",
    [b"{", b"[]", b'"text"', b"\xff\xfe{}", b'{"a": 1, "a": 2}', b'{"amount": NaN}', b"[" * 100_000],
    ids=["truncated", "array", "string", "not utf-8", "duplicate key", "NaN", "deep"],
)
def test_anything_but_one_json_object_is_malformed(body: bytes) -> None:
    with pytest.raises(PayloadInvalid) as refused:
        parse_confirmation(body, now=NOW)
    assert refused.value.reason == MALFORMED_JSON
    assert refused.value.violations == ()


def test_every_missing_field_is_named() -> None:
    assert violations({}) == {
        "application": "FIELD_REQUIRED",
        "bank_reference": "FIELD_REQUIRED",
        "identity_verified": "FIELD_REQUIRED",
        "disbursed": "FIELD_REQUIRED",
        "occurred_at": "FIELD_REQUIRED",
    }


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("application", "applications/42", "INVALID_APPLICATION_NAME"),
        ("application", f"application/{ID}", "INVALID_APPLICATION_NAME"),
        ("application", f"{{{ID}}}", "INVALID_APPLICATION_NAME"),
        ("application", 42, "INVALID_APPLICATION_NAME"),
        ("bank_reference", "  ", "INVALID_BANK_REFERENCE"),
        ("bank_reference", "x" * 201, "INVALID_BANK_REFERENCE"),
        ("bank_reference", "REF\n2", "INVALID_BANK_REFERENCE"),
        ("bank_reference", 12345, "INVALID_BANK_REFERENCE"),
        ("identity_verified", "yes", "INVALID_BOOLEAN"),
        ("identity_verified", 1, "INVALID_BOOLEAN"),
        ("disbursed", "true", "INVALID_BOOLEAN"),
        ("occurred_at", "2026-03-01", "INVALID_TIMESTAMP"),
        ("occurred_at", "2026-03-01T10:14:00", "INVALID_TIMESTAMP"),  # no offset
        ("occurred_at", "2026-02-30T10:14:00Z", "INVALID_TIMESTAMP"),
        ("occurred_at", 1772360040, "INVALID_TIMESTAMP"),
        ("occurred_at", "2026-03-01T10:20:01Z", "TIMESTAMP_IN_FUTURE"),
        ("amount_disbursed", "12000.00 EUR", "INVALID_MONEY"),
        ("surprise", "!", "UNKNOWN_FIELD"),
    ],
)
def test_a_bad_field_is_named_with_its_reason(field: str, value: Any, reason: str) -> None:
    assert violations(payload(**{field: value})) == {field: reason}


@pytest.mark.parametrize(
    ("money", "expected"),
    [
        ({"currency_code": "EUR", "amount": 12000.00}, {"amount_disbursed.amount": "INVALID_AMOUNT"}),
        ({"currency_code": "EUR", "amount": 12000}, {"amount_disbursed.amount": "INVALID_AMOUNT"}),
        ({"currency_code": "EUR", "amount": "-1.00"}, {"amount_disbursed.amount": "INVALID_AMOUNT"}),
        ({"currency_code": "EUR", "amount": "1.005"}, {"amount_disbursed.amount": "INVALID_AMOUNT"}),
        ({"currency_code": "EUR", "amount": "1e3"}, {"amount_disbursed.amount": "INVALID_AMOUNT"}),
        ({"currency_code": "EUR", "amount": "1234567890123"}, {"amount_disbursed.amount": "INVALID_AMOUNT"}),
        ({"currency_code": "eur", "amount": "1.00"}, {"amount_disbursed.currency_code": BAD_CURRENCY}),
        ({"amount": "1.00"}, {"amount_disbursed.currency_code": BAD_CURRENCY}),
        (
            {"currency_code": "EUR", "amount": "1.00", "cents": 100},
            {"amount_disbursed.cents": "UNKNOWN_FIELD"},
        ),
    ],
)
def test_money_must_be_a_decimal_string_and_a_currency_code(
    money: dict[str, Any], expected: dict[str, str]
) -> None:
    assert violations(payload(amount_disbursed=money)) == expected


def test_zero_and_whole_amounts_are_accepted() -> None:
    money = parse(payload(amount_disbursed={"currency_code": "EUR", "amount": "0"})).amount_disbursed
    assert money == Money("EUR", Decimal("0"))
    money = parse(payload(amount_disbursed={"currency_code": "EUR", "amount": "12000.5"})).amount_disbursed
    assert money == Money("EUR", Decimal("12000.5"))


def test_an_amount_without_a_disbursement_is_a_contradiction() -> None:
    assert violations(payload(disbursed=False)) == {"amount_disbursed": "AMOUNT_WITHOUT_DISBURSEMENT"}


def test_every_problem_is_reported_at_once() -> None:
    found = violations(
        payload(
            application="nope",
            identity_verified="yes",
            amount_disbursed={"currency_code": "EUR", "amount": 1.5},
            extra=1,
        )
    )
    assert found == {
        "application": "INVALID_APPLICATION_NAME",
        "identity_verified": "INVALID_BOOLEAN",
        "amount_disbursed.amount": "INVALID_AMOUNT",
        "extra": "UNKNOWN_FIELD",
    }


def test_descriptions_never_repeat_the_value() -> None:
    with pytest.raises(PayloadInvalid) as refused:
        parse(payload(bank_reference="SECRET-LOOKING-REF\x00", application="applications/not-a-uuid-xyz"))
    text = " ".join(v.description for v in refused.value.violations) + refused.value.message
    assert "SECRET-LOOKING-REF" not in text
    assert "not-a-uuid-xyz" not in text


def test_only_a_few_unknown_fields_are_listed() -> None:
    found = violations(payload(**{f"extra_{i:03}": i for i in range(500)}))
    assert len(found) == 10


def test_a_time_in_the_future_is_judged_against_now() -> None:
    later = (NOW + timedelta(hours=1)).isoformat()
    assert violations(payload(occurred_at=later)) == {"occurred_at": "TIMESTAMP_IN_FUTURE"}
