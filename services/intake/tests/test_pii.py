"""PII envelope encryption, key rotation, erasure and keyed digests (SPEC §4)."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.countries import Country
from intake.pii import Keyring, PiiCipher, PiiUnavailable, SealedPii

NAME = "María José García López"
DOCUMENT = "12345678Z"


def key() -> bytes:
    return os.urandom(32)


def keyring(current: str = "k1", **keys: bytes) -> Keyring:
    return Keyring(current_key_id=current, keys=keys or {current: key()}, blind_index_key=key())


@pytest.fixture
def cipher() -> PiiCipher:
    return PiiCipher(keyring())


def flip_last_bit(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


# Keyring -----------------------------------------------------------------------------------------


def test_keyring_accepts_32_byte_keys() -> None:
    ring = Keyring("k2", {"k1": key(), "k2": key()}, key())
    assert ring.current_key_id == "k2"


@pytest.mark.parametrize(
    ("current", "keys", "blind", "message"),
    [
        ("k1", {}, b"b" * 32, "no key-encryption keys"),
        ("k2", {"k1": b"k" * 32}, b"b" * 32, "current key id 'k2' is not in the keyring"),
        ("k1", {"k1": b"k" * 16}, b"b" * 32, "must be 32 bytes"),
        ("k1", {"k1": b"k" * 33}, b"b" * 32, "must be 32 bytes"),
        ("k1", {"k1": b"k" * 32}, b"b" * 31, "blind-index key must be 32 bytes"),
        ("", {"": b"k" * 32}, b"b" * 32, "key ids must be non-empty printable ASCII"),
        ("k\n1", {"k\n1": b"k" * 32}, b"b" * 32, "key ids must be non-empty printable ASCII"),
    ],
)
def test_keyring_refuses_bad_keys_without_revealing_them(
    current: str, keys: dict[str, bytes], blind: bytes, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as info:
        Keyring(current, keys, blind)
    text = str(info.value)
    assert "kkkk" not in text
    assert "bbbb" not in text


def test_keyring_repr_hides_key_material() -> None:
    secret = b"S" * 32
    ring = Keyring("k1", {"k1": secret}, b"B" * 32)
    assert "SSSS" not in repr(ring)
    assert "BBBB" not in repr(ring)
    assert "k1" in repr(ring)


def test_keyring_keeps_its_own_copy_of_the_keys() -> None:
    keys = {"k1": key()}
    ring = Keyring("k1", keys, key())
    keys["k1"] = key()
    keys["k2"] = key()
    assert ring.keys["k1"] != keys["k1"]
    assert "k2" not in ring.keys
    with pytest.raises(TypeError):
        ring.keys["k3"] = key()  # type: ignore[index]


# Sealing -----------------------------------------------------------------------------------------


def test_seal_then_open_returns_the_plaintext(cipher: PiiCipher) -> None:
    application_id = uuid4()
    sealed = cipher.seal(application_id, NAME, DOCUMENT)
    assert sealed.key_id == "k1"
    assert cipher.open(application_id, sealed) == (NAME, DOCUMENT)


@settings(max_examples=50)
@given(st.text(max_size=300), st.text(max_size=40))
def test_any_text_round_trips(full_name: str, document: str) -> None:
    cipher = PiiCipher(keyring())
    application_id = uuid4()
    assert cipher.open(application_id, cipher.seal(application_id, full_name, document)) == (
        full_name,
        document,
    )


def test_every_record_gets_its_own_data_key_and_ciphertexts(cipher: PiiCipher) -> None:
    records = [cipher.seal(uuid4(), NAME, DOCUMENT) for _ in range(20)]
    # The same plaintext, yet nothing repeats: fresh data keys and fresh nonces every time.
    for part in ("wrapped_key", "full_name", "document"):
        assert len({getattr(record, part) for record in records}) == len(records)
    application_id = uuid4()
    assert cipher.seal(application_id, NAME, DOCUMENT) != cipher.seal(application_id, NAME, DOCUMENT)


def test_ciphertext_sizes_are_nonce_plus_plaintext_plus_tag(cipher: PiiCipher) -> None:
    sealed = cipher.seal(uuid4(), NAME, DOCUMENT)
    assert len(sealed.wrapped_key) == 12 + 32 + 16
    assert len(sealed.full_name) == 12 + len(NAME.encode()) + 16
    assert len(sealed.document) == 12 + len(DOCUMENT.encode()) + 16


@settings(max_examples=50)
@given(
    st.text(alphabet=st.characters(codec="utf-8"), min_size=4, max_size=60),
    st.text(alphabet="0123456789ABCDEFXYZ", min_size=6, max_size=18),
)
def test_plaintext_never_appears_in_the_sealed_record(full_name: str, document: str) -> None:
    cipher = PiiCipher(keyring())
    sealed = cipher.seal(uuid4(), full_name, document)
    stored = [sealed.key_id.encode(), sealed.wrapped_key, sealed.full_name, sealed.document]
    for secret in (full_name.encode(), document.encode()):
        # Every 4-byte window: shorter ones turn up in random bytes by chance.
        for start in range(len(secret) - 3):
            window = secret[start : start + 4]
            assert all(window not in blob for blob in stored)


def test_records_cannot_swap_ciphertexts(cipher: PiiCipher) -> None:
    first_id, second_id = uuid4(), uuid4()
    first = cipher.seal(first_id, NAME, DOCUMENT)
    second = cipher.seal(second_id, "Other Person", "87654321X")
    forgeries = [
        (first_id, dataclasses.replace(first, full_name=second.full_name)),
        (first_id, dataclasses.replace(first, document=second.document)),
        (first_id, dataclasses.replace(first, wrapped_key=second.wrapped_key)),
        (first_id, second),  # a whole row copied under another id
        (second_id, first),
    ]
    for application_id, forged in forgeries:
        with pytest.raises(PiiUnavailable):
            cipher.open(application_id, forged)


def test_fields_cannot_swap_within_a_record(cipher: PiiCipher) -> None:
    application_id = uuid4()
    sealed = cipher.seal(application_id, NAME, DOCUMENT)
    swapped = dataclasses.replace(sealed, full_name=sealed.document, document=sealed.full_name)
    with pytest.raises(PiiUnavailable):
        cipher.open(application_id, swapped)


@pytest.mark.parametrize("part", ["wrapped_key", "full_name", "document"])
def test_tampering_is_detected(cipher: PiiCipher, part: str) -> None:
    application_id = uuid4()
    sealed = cipher.seal(application_id, NAME, DOCUMENT)
    for damaged in (flip_last_bit(getattr(sealed, part)), getattr(sealed, part)[:20], b"x"):
        changes: dict[str, Any] = {part: damaged}
        with pytest.raises(PiiUnavailable) as info:
            cipher.open(application_id, dataclasses.replace(sealed, **changes))
        assert info.value.reason == "PII_UNAVAILABLE"


def test_unknown_key_id_is_unavailable(cipher: PiiCipher) -> None:
    application_id = uuid4()
    sealed = dataclasses.replace(cipher.seal(application_id, NAME, DOCUMENT), key_id="retired")
    with pytest.raises(PiiUnavailable, match="key"):
        cipher.open(application_id, sealed)


def test_erased_record_is_unavailable(cipher: PiiCipher) -> None:
    application_id = uuid4()
    erased = dataclasses.replace(cipher.seal(application_id, NAME, DOCUMENT), wrapped_key=b"")
    with pytest.raises(PiiUnavailable, match="erased"):
        cipher.open(application_id, erased)
    with pytest.raises(PiiUnavailable):
        cipher.rewrap(application_id, erased)


def test_a_wrapped_key_cannot_be_relabelled_with_another_key_id() -> None:
    k1, k2 = key(), key()
    cipher = PiiCipher(Keyring("k1", {"k1": k1, "k2": k2}, key()))
    application_id = uuid4()
    sealed = cipher.seal(application_id, NAME, DOCUMENT)
    with pytest.raises(PiiUnavailable):
        cipher.open(application_id, dataclasses.replace(sealed, key_id="k2"))


def test_another_keyring_cannot_open_a_record() -> None:
    application_id = uuid4()
    sealed = PiiCipher(keyring()).seal(application_id, NAME, DOCUMENT)
    with pytest.raises(PiiUnavailable):
        PiiCipher(keyring()).open(application_id, sealed)


def test_errors_never_carry_plaintext(cipher: PiiCipher) -> None:
    application_id = uuid4()
    sealed = cipher.seal(application_id, NAME, DOCUMENT)
    with pytest.raises(PiiUnavailable) as info:
        cipher.open(uuid4(), sealed)
    assert NAME not in str(info.value)
    assert DOCUMENT not in str(info.value)


# Rotation ----------------------------------------------------------------------------------------


def test_after_rotation_old_records_open_and_rewrap_moves_them_to_the_new_key() -> None:
    old_key, new_key, blind = key(), key(), key()
    before = PiiCipher(Keyring("2026-01", {"2026-01": old_key}, blind))
    application_id = uuid4()
    old = before.seal(application_id, NAME, DOCUMENT)

    after = PiiCipher(Keyring("2026-07", {"2026-01": old_key, "2026-07": new_key}, blind))
    assert after.open(application_id, old) == (NAME, DOCUMENT)
    assert after.seal(uuid4(), NAME, DOCUMENT).key_id == "2026-07"

    moved = after.rewrap(application_id, old)
    assert moved.key_id == "2026-07"
    assert moved.wrapped_key != old.wrapped_key
    assert (moved.full_name, moved.document) == (old.full_name, old.document)
    assert after.open(application_id, moved) == (NAME, DOCUMENT)

    # Once every record is moved, the old key can go.
    retired = PiiCipher(Keyring("2026-07", {"2026-07": new_key}, blind))
    assert retired.open(application_id, moved) == (NAME, DOCUMENT)
    with pytest.raises(PiiUnavailable):
        retired.open(application_id, old)


def test_rewrap_of_a_current_record_changes_nothing(cipher: PiiCipher) -> None:
    application_id = uuid4()
    sealed = cipher.seal(application_id, NAME, DOCUMENT)
    assert cipher.rewrap(application_id, sealed) == sealed


def test_rewrap_refuses_a_tampered_record(cipher: PiiCipher) -> None:
    application_id = uuid4()
    sealed = cipher.seal(application_id, NAME, DOCUMENT)
    with pytest.raises(PiiUnavailable):
        cipher.rewrap(
            application_id, dataclasses.replace(sealed, wrapped_key=flip_last_bit(sealed.wrapped_key))
        )


# Blind index and digests -------------------------------------------------------------------------


def test_blind_index_is_deterministic_per_country_and_document() -> None:
    ring = keyring()
    index = PiiCipher(ring).blind_index("ES", DOCUMENT)
    assert len(index) == 32
    assert PiiCipher(ring).blind_index("ES", DOCUMENT) == index
    assert PiiCipher(ring).blind_index(Country.ES, DOCUMENT) == index
    assert DOCUMENT.encode() not in index


def test_blind_index_differs_across_countries_documents_and_keys(cipher: PiiCipher) -> None:
    indexes = {
        cipher.blind_index("ES", "12345678Z"),
        cipher.blind_index("PT", "12345678Z"),
        cipher.blind_index("ES", "12345678X"),
        PiiCipher(keyring()).blind_index("ES", "12345678Z"),
    }
    assert len(indexes) == 4


def test_blind_index_matches_the_documented_construction() -> None:
    blind = key()
    cipher = PiiCipher(Keyring("k1", {"k1": key()}, blind))
    country_key = hmac.digest(blind, b"blind-index/v1/CO", hashlib.sha256)
    assert cipher.blind_index("CO", "1234567890") == hmac.digest(country_key, b"1234567890", hashlib.sha256)


def test_blind_index_needs_a_country(cipher: PiiCipher) -> None:
    with pytest.raises(ValueError, match="country"):
        cipher.blind_index("", DOCUMENT)


def test_keyed_digest_is_deterministic_and_separate_from_the_blind_index() -> None:
    ring = keyring()
    digest = PiiCipher(ring).keyed_digest(b"payload")
    assert len(digest) == 32
    assert PiiCipher(ring).keyed_digest(b"payload") == digest
    assert PiiCipher(ring).keyed_digest(b"payload2") != digest
    assert PiiCipher(keyring()).keyed_digest(b"payload") != digest
    assert PiiCipher(ring).blind_index("ES", "payload") != digest


def test_sealed_pii_is_plain_data() -> None:
    sealed = SealedPii(key_id="k1", wrapped_key=b"w", full_name=b"n", document=b"d")
    assert dataclasses.astuple(sealed) == ("k1", b"w", b"n", b"d")
