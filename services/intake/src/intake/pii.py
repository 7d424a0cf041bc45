"""Application-layer encryption of the applicant's name and document, and keyed digests (SPEC §4).

Envelope encryption: every record gets its own random data key, which encrypts the fields
(AES-256-GCM) and is stored wrapped by a key-encryption key (KEK) named by `key_id`, so KEKs rotate by
rewrapping data keys without touching field ciphertexts, and deleting a record's wrapped key erases it.
Lookups use a blind index (HMAC-SHA256) instead of plaintext.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from intake.errors import DomainError

KEY_BYTES: Final = 32  # AES-256
NONCE_BYTES: Final = 12  # GCM's standard 96-bit nonce; random is safe at one message per data key and field
_TAG_BYTES: Final = 16

# Domain separation: every derived key and every associated data starts with its purpose, so that no
# value made for one purpose is ever accepted for another.
_WRAP_AAD: Final = b"globalcredit/intake/pii/data-key/v1"
_FIELD_AAD: Final = b"globalcredit/intake/pii/field/v1"
_BLIND_INDEX_PURPOSE: Final = b"blind-index/v1/"
_FINGERPRINT_PURPOSE: Final = b"request-fingerprint/v1"

FULL_NAME_FIELD: Final = "full_name"
DOCUMENT_FIELD: Final = "document"


class PiiUnavailable(DomainError):
    """A record's PII cannot be read: its key is unknown or erased, or the data was tampered with."""

    def __init__(self, description: str) -> None:
        super().__init__("PII_UNAVAILABLE", description)


@dataclass(frozen=True)
class Keyring:
    """The keys PII protection uses. Key material is kept out of `repr`, so it never reaches a log.

    `keys` maps key ids to 32-byte key-encryption keys; `current_key_id` names the one new records (and
    rewrapped ones) use; older ones stay for reading until every record is rewrapped.
    """

    current_key_id: str
    keys: Mapping[str, bytes] = field(repr=False)
    blind_index_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        # Messages name key ids at most, never key material.
        if not self.keys:
            raise ValueError("the keyring has no key-encryption keys")
        for key_id, key in self.keys.items():
            if not key_id or not key_id.isascii() or not key_id.isprintable():
                raise ValueError("key ids must be non-empty printable ASCII")
            if len(key) != KEY_BYTES:
                raise ValueError(f"key-encryption key {key_id!r} must be {KEY_BYTES} bytes")
        if self.current_key_id not in self.keys:
            raise ValueError(f"the current key id {self.current_key_id!r} is not in the keyring")
        if len(self.blind_index_key) != KEY_BYTES:
            raise ValueError(f"the blind-index key must be {KEY_BYTES} bytes")
        # A private copy: the caller's dict changing later must not change the keyring.
        object.__setattr__(self, "keys", MappingProxyType({k: bytes(v) for k, v in self.keys.items()}))


@dataclass(frozen=True)
class SealedPii:
    """A record's encrypted PII, as stored. Each ciphertext is nonce ‖ AES-GCM ciphertext ‖ tag.

    An empty `wrapped_key` means the record was erased (NULL in the database): nothing can open it.
    """

    key_id: str
    wrapped_key: bytes
    full_name: bytes
    document: bytes


class PiiCipher:
    """Seals and opens applicants' PII, and computes keyed digests, under one keyring."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._country_keys: dict[str, bytes] = {}
        self._fingerprint_key = _derive(keyring.blind_index_key, _FINGERPRINT_PURPOSE)

    @property
    def current_key_id(self) -> str:
        """The key-encryption key new records are sealed, and old ones re-wrapped, under."""
        return self._keyring.current_key_id

    def seal(self, application_id: UUID, full_name: str, document: str) -> SealedPii:
        """Encrypt a record's name and document under a fresh data key wrapped by the current KEK."""
        data_key = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
        key_id = self._keyring.current_key_id
        return SealedPii(
            key_id=key_id,
            wrapped_key=self._wrap(application_id, key_id, data_key),
            full_name=_encrypt(data_key, full_name.encode(), _field_aad(application_id, FULL_NAME_FIELD)),
            document=_encrypt(data_key, document.encode(), _field_aad(application_id, DOCUMENT_FIELD)),
        )

    def open(self, application_id: UUID, sealed: SealedPii) -> tuple[str, str]:
        """Decrypt a record: (full name, document). Raises `PiiUnavailable`."""
        data_key = self._unwrap(application_id, sealed)
        full_name = _decrypt(data_key, sealed.full_name, _field_aad(application_id, FULL_NAME_FIELD))
        document = _decrypt(data_key, sealed.document, _field_aad(application_id, DOCUMENT_FIELD))
        return full_name.decode(), document.decode()

    def rewrap(self, application_id: UUID, sealed: SealedPii) -> SealedPii:
        """The same record with its data key wrapped by the current KEK; the field ciphertexts are kept.

        Raises `PiiUnavailable` when the record cannot be opened, so a rotation job notices it.
        """
        data_key = self._unwrap(application_id, sealed)
        current = self._keyring.current_key_id
        if sealed.key_id == current:
            return sealed
        return SealedPii(
            key_id=current,
            wrapped_key=self._wrap(application_id, current, data_key),
            full_name=sealed.full_name,
            document=sealed.document,
        )

    def blind_index(self, country: str, normalised_document: str) -> bytes:
        """A deterministic, keyed digest of a normalised document, for lookups and duplicate checks.

        Each country has its own derived key, so equal numbers in two countries do not link.
        """
        if not country:
            raise ValueError("a country is required for a blind index")
        key = self._country_keys.get(country)
        if key is None:
            key = _derive(self._keyring.blind_index_key, _BLIND_INDEX_PURPOSE + country.encode())
            self._country_keys[country] = key
        return hmac.digest(key, normalised_document.encode(), hashlib.sha256)

    def keyed_digest(self, data: bytes) -> bytes:
        """HMAC-SHA256 of `data` under a key of its own: fingerprints requests without keeping plaintext."""
        return hmac.digest(self._fingerprint_key, data, hashlib.sha256)

    def _wrap(self, application_id: UUID, key_id: str, data_key: bytes) -> bytes:
        kek = self._keyring.keys[key_id]
        return _encrypt(kek, data_key, _wrap_aad(key_id, application_id))

    def _unwrap(self, application_id: UUID, sealed: SealedPii) -> bytes:
        if not sealed.wrapped_key:
            raise PiiUnavailable("the applicant's personal data has been erased")
        kek = self._keyring.keys.get(sealed.key_id)
        if kek is None:
            raise PiiUnavailable("the key that protects this record is not available")
        data_key = _decrypt(kek, sealed.wrapped_key, _wrap_aad(sealed.key_id, application_id))
        if len(data_key) != KEY_BYTES:
            raise PiiUnavailable("the record's data key is damaged")
        return data_key


def _derive(key: bytes, purpose: bytes) -> bytes:
    return hmac.digest(key, purpose, hashlib.sha256)


def _aad(*parts: bytes) -> bytes:
    # Each part length-prefixed, so that no two different lists of parts encode the same.
    return b"".join(struct.pack(">I", len(part)) + part for part in parts)


def _wrap_aad(key_id: str, application_id: UUID) -> bytes:
    # Binds a wrapped key to its record and its KEK id: it cannot be moved to another row, nor
    # relabelled with another key id.
    return _aad(_WRAP_AAD, key_id.encode(), application_id.bytes)


def _field_aad(application_id: UUID, field_name: str) -> bytes:
    # Binds a ciphertext to its record and its field: swapping ciphertexts between rows or between the
    # name and the document fails authentication.
    return _aad(_FIELD_AAD, application_id.bytes, field_name.encode())


def _encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _decrypt(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < NONCE_BYTES + _TAG_BYTES:
        raise PiiUnavailable("the encrypted personal data is damaged")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except InvalidTag:
        raise PiiUnavailable("the encrypted personal data failed authentication") from None
