"""Development secrets: generated at the first start into `.run/secrets/`, reused by every later start.

- `jwt-signing-key.pem`  ES256 (P-256) private key, PKCS#8, mode 0600: signs development tokens.
- `jwks.json`            its public half, which every service verifies tokens against.
- `intake-pii-keys.json` intake's PII key-encryption keys, `{"current_key_id": …, "keys": {id: base64}}`;
                         add a key and point `current_key_id` at it to try a rotation.
- `intake-blind-index.key` intake's blind-index (HMAC) key, 32 bytes in base64.
- `webhook-secret`       the banks' webhook signing secret (Standard Webhooks, `whsec_<base64>`).

They protect nothing real: `.run/` is git-ignored, and production keys come from the deployment.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets as random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

SIGNING_KEY_FILE = "jwt-signing-key.pem"
JWKS_FILE = "jwks.json"
PII_KEYS_FILE = "intake-pii-keys.json"
BLIND_INDEX_KEY_FILE = "intake-blind-index.key"
WEBHOOK_SECRET_FILE = "webhook-secret"  # noqa: S105 (a file name, not a secret)
FIRST_PII_KEY_ID = "dev-1"
_KEY_BYTES = 32


@dataclass(frozen=True)
class DevSecrets:
    """The development keys, loaded from (or just written to) `directory`."""

    directory: Path
    signing_key: ec.EllipticCurvePrivateKey
    signing_key_id: str
    pii_keys: Mapping[str, str]
    pii_current_key_id: str
    blind_index_key: str
    webhook_secret: str
    created: tuple[str, ...]
    """The files this load had to create (empty when everything was reused)."""

    @property
    def signing_key_path(self) -> Path:
        return self.directory / SIGNING_KEY_FILE

    @property
    def jwks_path(self) -> Path:
        return self.directory / JWKS_FILE


def load_or_create_secrets(directory: Path) -> DevSecrets:
    """Read the development secrets from `directory`, creating whichever are missing."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    created: list[str] = []

    key_path = directory / SIGNING_KEY_FILE
    if not key_path.exists():
        new_key = ec.generate_private_key(ec.SECP256R1())
        _write(key_path, _private_pem(new_key), mode=0o600)
        created.append(SIGNING_KEY_FILE)
    signing_key = _load_signing_key(key_path)
    key_id = _thumbprint(signing_key.public_key())

    # Always derived from the private key, so the two can never disagree.
    jwks = json.dumps(public_jwks(signing_key, key_id), indent=2) + "\n"
    jwks_path = directory / JWKS_FILE
    if not jwks_path.exists() or jwks_path.read_text() != jwks:
        _write(jwks_path, jwks.encode(), mode=0o644)
        created.append(JWKS_FILE)

    pii_path = directory / PII_KEYS_FILE
    if not pii_path.exists():
        document = {"current_key_id": FIRST_PII_KEY_ID, "keys": {FIRST_PII_KEY_ID: _random_key()}}
        _write(pii_path, (json.dumps(document, indent=2) + "\n").encode(), mode=0o600)
        created.append(PII_KEYS_FILE)
    pii_keys, current_key_id = _load_pii_keys(pii_path)

    blind_path = directory / BLIND_INDEX_KEY_FILE
    if not blind_path.exists():
        _write(blind_path, (_random_key() + "\n").encode(), mode=0o600)
        created.append(BLIND_INDEX_KEY_FILE)
    blind_index_key = blind_path.read_text().strip()

    webhook_path = directory / WEBHOOK_SECRET_FILE
    if not webhook_path.exists():
        _write(webhook_path, f"whsec_{_random_key()}\n".encode(), mode=0o600)
        created.append(WEBHOOK_SECRET_FILE)
    webhook_secret = webhook_path.read_text().strip()

    return DevSecrets(
        directory=directory,
        signing_key=signing_key,
        signing_key_id=key_id,
        pii_keys=pii_keys,
        pii_current_key_id=current_key_id,
        blind_index_key=blind_index_key,
        webhook_secret=webhook_secret,
        created=tuple(created),
    )


def public_jwks(key: ec.EllipticCurvePrivateKey, key_id: str) -> dict[str, Any]:
    """`{"keys": [<the public JWK>]}` with `kid`, `alg` ES256 and `use` sig."""
    jwk = dict(ECAlgorithm.to_jwk(key.public_key(), as_dict=True))
    jwk.update(kid=key_id, alg="ES256", use="sig")
    return {"keys": [jwk]}


def _thumbprint(public_key: ec.EllipticCurvePublicKey) -> str:
    """The RFC 7638 JWK thumbprint: a key id that changes exactly when the key does."""
    jwk = ECAlgorithm.to_jwk(public_key, as_dict=True)
    canonical = json.dumps({name: jwk[name] for name in ("crv", "kty", "x", "y")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load_signing_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"{path} must hold a P-256 (ES256) private key; delete it to get a new one")
    return key


def _load_pii_keys(path: Path) -> tuple[dict[str, str], str]:
    document = json.loads(path.read_text())
    keys = document.get("keys") if isinstance(document, dict) else None
    current = document.get("current_key_id") if isinstance(document, dict) else None
    if not isinstance(keys, dict) or not isinstance(current, str) or current not in keys:
        raise ValueError(f"{path} must be {{'current_key_id': id, 'keys': {{id: base64, …}}}}")
    return {str(key_id): str(value) for key_id, value in keys.items()}, current


def _random_key() -> str:
    return base64.b64encode(random.token_bytes(_KEY_BYTES)).decode()


def _write(path: Path, data: bytes, *, mode: int) -> None:
    """Write atomically (a crash leaves the old file or none, never half a key) with `mode`."""
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.chmod(temporary, mode)  # O_CREAT's mode is filtered by the umask
    os.replace(temporary, path)
