"""Standard Webhooks signing and verification, without a server."""

from __future__ import annotations

import base64

import pytest

from webhook_shim.signatures import (
    HEADERS_MALFORMED,
    HEADERS_MISSING,
    SIGNATURE_MISMATCH,
    TIMESTAMP_OUT_OF_TOLERANCE,
    DeliveryRejected,
    InvalidSecret,
    SignatureVerifier,
    WebhookSecret,
    parse_secrets,
    read_headers,
    sign,
)

NOW = 1_760_000_000
BODY = b'{"application": "applications/0190f7c4-0000-7000-8000-000000000000"}'


def verifier(*secrets: WebhookSecret, now: float = NOW) -> SignatureVerifier:
    return SignatureVerifier(secrets, tolerance_seconds=300, clock=lambda: now)


def test_signatures_match_the_standard_webhooks_reference_vector() -> None:
    # The example of the Standard Webhooks reference libraries: interoperable with any bank using them.
    secret = WebhookSecret.parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    signature = secret.signature("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_delivery_signed_with_the_secret_is_accepted() -> None:
    secret = WebhookSecret.generate()
    headers = read_headers(sign([secret], "msg_1", NOW, BODY))
    verifier(secret).verify(headers, BODY)


def test_any_signature_matching_any_secret_is_enough() -> None:
    old, new, stranger = WebhookSecret.generate(), WebhookSecret.generate(), WebhookSecret.generate()
    headers = read_headers(sign([stranger, new], "msg_1", NOW, BODY))
    verifier(old, new).verify(headers, BODY)


def test_a_signature_differing_in_its_last_byte_is_refused() -> None:
    secret = WebhookSecret.generate()
    digest = bytearray(secret.digest("msg_1", str(NOW), BODY))
    digest[-1] ^= 0x01
    headers = read_headers(
        {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(NOW),
            "webhook-signature": "v1," + base64.b64encode(bytes(digest)).decode(),
        }
    )
    with pytest.raises(DeliveryRejected) as refused:
        verifier(secret).verify(headers, BODY)
    assert refused.value.reason == SIGNATURE_MISMATCH


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda h, b: ({**h, "webhook-id": "msg_2"}, b), id="other id"),
        pytest.param(lambda h, b: ({**h, "webhook-timestamp": str(NOW + 1)}, b), id="other timestamp"),
        pytest.param(lambda h, b: (h, b + b" "), id="other body"),
    ],
)
def test_every_signed_part_is_covered(change: object) -> None:
    secret = WebhookSecret.generate()
    headers, body = change(sign([secret], "msg_1", NOW, BODY), BODY)  # type: ignore[operator]
    with pytest.raises(DeliveryRejected) as refused:
        verifier(secret).verify(read_headers(headers), body)
    assert refused.value.reason == SIGNATURE_MISMATCH


def test_other_signature_versions_are_ignored() -> None:
    secret = WebhookSecret.generate()
    signed = sign([secret], "msg_1", NOW, BODY)
    value = signed["webhook-signature"].removeprefix("v1,")
    headers = read_headers({**signed, "webhook-signature": f"v1a,{value}"})
    with pytest.raises(DeliveryRejected) as refused:
        verifier(secret).verify(headers, BODY)
    assert refused.value.reason == SIGNATURE_MISMATCH


@pytest.mark.parametrize("offset", [-300, 300, 0])
def test_a_timestamp_within_five_minutes_either_way_is_fresh(offset: int) -> None:
    secret = WebhookSecret.generate()
    headers = read_headers(sign([secret], "msg_1", NOW + offset, BODY))
    verifier(secret).verify(headers, BODY)


@pytest.mark.parametrize("offset", [-301, 301, -86_400])
def test_a_timestamp_further_away_is_refused(offset: int) -> None:
    secret = WebhookSecret.generate()
    headers = read_headers(sign([secret], "msg_1", NOW + offset, BODY))
    with pytest.raises(DeliveryRejected) as refused:
        verifier(secret).verify(headers, BODY)
    assert refused.value.reason == TIMESTAMP_OUT_OF_TOLERANCE


def test_a_bad_signature_is_reported_as_such_even_when_stale() -> None:
    # A stale-timestamp refusal always concerns a delivery the bank really signed.
    headers = read_headers(sign([WebhookSecret.generate()], "msg_1", NOW - 3600, BODY))
    with pytest.raises(DeliveryRejected) as refused:
        verifier(WebhookSecret.generate()).verify(headers, BODY)
    assert refused.value.reason == SIGNATURE_MISMATCH


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_each_header_is_required(missing: str) -> None:
    headers = sign([WebhookSecret.generate()], "msg_1", NOW, BODY)
    del headers[missing]
    with pytest.raises(DeliveryRejected) as refused:
        read_headers(headers)
    assert refused.value.reason == HEADERS_MISSING
    assert missing in refused.value.message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("webhook-id", "has space"),
        ("webhook-id", "x" * 201),
        ("webhook-timestamp", "1760000000.5"),
        ("webhook-timestamp", "-1760000000"),
        ("webhook-timestamp", "soon"),
        ("webhook-signature", "v1"),
        ("webhook-signature", ",abc"),
        ("webhook-signature", " ".join(["v1,abc"] * 17)),
    ],
)
def test_malformed_headers_are_refused(name: str, value: str) -> None:
    headers = {**sign([WebhookSecret.generate()], "msg_1", NOW, BODY), name: value}
    with pytest.raises(DeliveryRejected) as refused:
        read_headers(headers)
    assert refused.value.reason == HEADERS_MALFORMED


def test_a_signature_that_is_not_base64_simply_does_not_match() -> None:
    secret = WebhookSecret.generate()
    headers = read_headers({"webhook-id": "m", "webhook-timestamp": str(NOW), "webhook-signature": "v1,@@@"})
    with pytest.raises(DeliveryRejected) as refused:
        verifier(secret).verify(headers, BODY)
    assert refused.value.reason == SIGNATURE_MISMATCH


def test_secrets_round_trip_through_their_encoding() -> None:
    secret = WebhookSecret.generate()
    assert WebhookSecret.parse(secret.encoded()) == secret
    assert parse_secrets(f" {secret.encoded()} ,{secret.encoded()}") == (secret, secret)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # no prefix
        "whsec_not*base64",
        "whsec_" + base64.b64encode(b"short").decode(),
    ],
)
def test_bad_secrets_are_refused_without_repeating_them(text: str) -> None:
    with pytest.raises(InvalidSecret) as refused:
        parse_secrets(f"{WebhookSecret.generate().encoded()},{text}" if text else text)
    if text:
        assert text not in str(refused.value)
        assert "secret 2 of 2" in str(refused.value)


def test_a_secret_never_shows_in_its_repr() -> None:
    secret = WebhookSecret.generate()
    assert secret.encoded().removeprefix("whsec_") not in repr(secret)
    assert repr(secret.key) not in repr(secret)
