"""Standard Webhooks signatures (https://www.standardwebhooks.com): checks that a delivery was signed by
the bank with one of our shared secrets and is fresh; signs a delivery for the CLI and the tests.

The signed content is `{webhook-id}.{webhook-timestamp}.{raw body}`; `webhook-signature` holds one or
more space-separated `v1,<base64 HMAC-SHA256>`, several while a secret is being rotated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

SECRET_PREFIX = "whsec_"  # noqa: S105 (the scheme's prefix, not a secret)
SIGNATURE_VERSION = "v1"
# Standard Webhooks asks for 24 to 64 random bytes; a shorter key is a configuration mistake.
MIN_SECRET_BYTES = 24
GENERATED_SECRET_BYTES = 32

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"

# Intake keeps webhook ids of up to 200 characters. Printable ASCII only: the id is logged and signed.
_WEBHOOK_ID = re.compile(r"[\x21-\x7e]{1,200}")
# Unix seconds; twelve digits reach the year 33658, anything longer is not a timestamp.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# A bound on the work one delivery can ask of us (each candidate is compared against each secret).
MAX_SIGNATURES = 16

# Reasons a delivery is refused with 401; stable, part of the shim's HTTP contract.
HEADERS_MISSING = "WEBHOOK_HEADERS_MISSING"
HEADERS_MALFORMED = "WEBHOOK_HEADERS_MALFORMED"
SIGNATURE_MISMATCH = "WEBHOOK_SIGNATURE_MISMATCH"
TIMESTAMP_OUT_OF_TOLERANCE = "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE"


class InvalidSecret(ValueError):
    """A configured secret is not `whsec_<base64>` of enough bytes. The message never holds the secret."""


@dataclass(frozen=True)
class WebhookSecret:
    """One shared secret: the HMAC key, decoded from `whsec_<base64>`. Its repr hides the key."""

    key: bytes = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> WebhookSecret:
        encoded = text.strip()
        if not encoded.startswith(SECRET_PREFIX):
            raise InvalidSecret(f"a webhook secret must start with {SECRET_PREFIX}")
        try:
            key = base64.b64decode(encoded.removeprefix(SECRET_PREFIX), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidSecret(f"a webhook secret must be {SECRET_PREFIX} followed by base64") from None
        if len(key) < MIN_SECRET_BYTES:
            raise InvalidSecret(f"a webhook secret must hold at least {MIN_SECRET_BYTES} bytes")
        return cls(key)

    @classmethod
    def generate(cls) -> WebhookSecret:
        return cls(os.urandom(GENERATED_SECRET_BYTES))

    def encoded(self) -> str:
        """The secret as it is configured and shared with the bank: `whsec_<base64>`."""
        return SECRET_PREFIX + base64.b64encode(self.key).decode("ascii")

    def digest(self, webhook_id: str, timestamp: str, body: bytes) -> bytes:
        return hmac.new(self.key, signed_content(webhook_id, timestamp, body), hashlib.sha256).digest()

    def signature(self, webhook_id: str, timestamp: str, body: bytes) -> str:
        """One `webhook-signature` entry: `v1,<base64 HMAC-SHA256>`."""
        encoded = base64.b64encode(self.digest(webhook_id, timestamp, body)).decode("ascii")
        return f"{SIGNATURE_VERSION},{encoded}"


def parse_secrets(text: str) -> tuple[WebhookSecret, ...]:
    """Comma-separated `whsec_…` secrets; errors say which one (by position), never what it holds."""
    parts = [part for part in text.split(",") if part.strip()]
    if not parts:
        raise InvalidSecret("at least one webhook secret is required")
    secrets = []
    for position, part in enumerate(parts, start=1):
        try:
            secrets.append(WebhookSecret.parse(part))
        except InvalidSecret as error:
            raise InvalidSecret(f"secret {position} of {len(parts)}: {error}") from None
    return tuple(secrets)


def signed_content(webhook_id: str, timestamp: str, body: bytes) -> bytes:
    return f"{webhook_id}.{timestamp}.".encode() + body


def sign(secrets: Sequence[WebhookSecret], webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for `body`, signed with every secret given."""
    stamp = str(timestamp)
    return {
        ID_HEADER: webhook_id,
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: " ".join(secret.signature(webhook_id, stamp, body) for secret in secrets),
    }


class DeliveryRejected(Exception):
    """The delivery is not provably the bank's, or not fresh. `reason` is one of the constants above."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class DeliveryHeaders:
    """The Standard Webhooks headers of one delivery, well-formed but not yet verified."""

    webhook_id: str
    timestamp: str
    """As sent: the signature covers these exact characters."""
    signatures: tuple[str, ...] = field(repr=False)
    """The base64 values of the `v1` entries (other versions are not ours to check)."""


def read_headers(headers: Mapping[str, str]) -> DeliveryHeaders:
    """The delivery's headers (lower-case names, or a case-insensitive mapping); missing or malformed
    ones are a `DeliveryRejected`."""
    webhook_id = headers.get(ID_HEADER, "")
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    missing = [
        name
        for name, value in (
            (ID_HEADER, webhook_id),
            (TIMESTAMP_HEADER, timestamp),
            (SIGNATURE_HEADER, signature),
        )
        if not value.strip()
    ]
    if missing:
        raise DeliveryRejected(HEADERS_MISSING, f"missing header(s): {', '.join(missing)}")
    if not _WEBHOOK_ID.fullmatch(webhook_id):
        raise DeliveryRejected(HEADERS_MALFORMED, f"{ID_HEADER} must be 1 to 200 printable ASCII characters")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise DeliveryRejected(HEADERS_MALFORMED, f"{TIMESTAMP_HEADER} must be Unix time in seconds")
    entries = signature.split()
    if len(entries) > MAX_SIGNATURES:
        raise DeliveryRejected(
            HEADERS_MALFORMED, f"{SIGNATURE_HEADER} holds more than {MAX_SIGNATURES} entries"
        )
    candidates = []
    for entry in entries:
        version, comma, value = entry.partition(",")
        if not comma or not version or not value:
            raise DeliveryRejected(
                HEADERS_MALFORMED, f"{SIGNATURE_HEADER} must be space-separated <version>,<signature>"
            )
        if version == SIGNATURE_VERSION:
            candidates.append(value)
    return DeliveryHeaders(webhook_id=webhook_id, timestamp=timestamp, signatures=tuple(candidates))


class SignatureVerifier:
    """Accepts a delivery when any of its `v1` signatures matches any configured secret, and its
    timestamp is within the tolerance of now, in the past or the future."""

    def __init__(
        self,
        secrets: Sequence[WebhookSecret],
        *,
        tolerance_seconds: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secrets:
            raise ValueError("at least one webhook secret is required")
        self._secrets = tuple(secrets)
        self._tolerance = tolerance_seconds
        self._clock = clock

    def verify(self, headers: DeliveryHeaders, body: bytes) -> None:
        """Raise `DeliveryRejected` unless the delivery is signed with one of our secrets and fresh.

        The signature is checked first, so that a refusal for the timestamp always concerns a delivery
        the bank really signed: a replay, or a clock that drifted, which is worth an operator's look.
        """
        if not self._signed_by_us(headers, body):
            raise DeliveryRejected(SIGNATURE_MISMATCH, "no signature matches")
        if abs(self._clock() - int(headers.timestamp)) > self._tolerance:
            raise DeliveryRejected(
                TIMESTAMP_OUT_OF_TOLERANCE,
                f"{TIMESTAMP_HEADER} is more than {self._tolerance} seconds away from now",
            )

    def _signed_by_us(self, headers: DeliveryHeaders, body: bytes) -> bool:
        received = [decoded for value in headers.signatures if (decoded := _decode(value)) is not None]
        if not received:
            return False
        for secret in self._secrets:
            expected = secret.digest(headers.webhook_id, headers.timestamp, body)
            # compare_digest takes the same time wherever the first difference is, so a forger cannot
            # find a valid signature byte by byte from our response times.
            if any(hmac.compare_digest(expected, candidate) for candidate in received):
                return True
        return False


def _decode(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
