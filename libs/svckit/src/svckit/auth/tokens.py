"""JWT bearer tokens: verification against a JWKS (every service), and a development-only issuer.

Only RS256 and ES256 are accepted, the key is chosen by `kid`, and every failure is an `Unauthenticated`
error with a stable reason that never echoes the token.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from svckit.auth.principal import Principal
from svckit.errors import Unauthenticated

log = logging.getLogger(__name__)

ACCEPTED_ALGORITHMS = frozenset({"RS256", "ES256"})
PARTNER_ROLE = "partner"
_REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "aud"]
_MIN_RSA_BITS = 2048


def token_missing() -> Unauthenticated:
    return Unauthenticated("a bearer token is required", reason="TOKEN_MISSING")


def _invalid(message: str) -> Unauthenticated:
    return Unauthenticated(message, reason="TOKEN_INVALID")


def bearer_token(authorization: str | bytes | None) -> str:
    """The token from an `authorization: Bearer <token>` value; `Unauthenticated` when absent."""
    if not isinstance(authorization, str) or not authorization.strip():
        raise token_missing()
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _invalid("authorization must be 'Bearer <token>'")
    return token


class JwtVerifier:
    """Verifies bearer tokens against a JWKS and turns their claims into a `Principal`.

    Verified tokens are cached (bounded, until they expire) because a signature check costs far more
    than the rest of an RPC's overhead, and clients send the same token for hours.
    """

    def __init__(
        self,
        jwks: Mapping[str, Any],
        *,
        issuer: str,
        audience: str,
        leeway: float = 30.0,
        cache_size: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        self._cache_size = cache_size
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._keys = _usable_keys(jwks)
        if not self._keys:
            raise ValueError("the JWKS holds no usable RS256/ES256 signing key with a 'kid'")

    @classmethod
    def from_json(cls, jwks_json: str, *, issuer: str, audience: str, leeway: float = 30.0) -> JwtVerifier:
        return cls(json.loads(jwks_json), issuer=issuer, audience=audience, leeway=leeway)

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def verify(self, token: str) -> Principal:
        """The principal a valid token names; `Unauthenticated` (TOKEN_INVALID / TOKEN_EXPIRED) otherwise."""
        cached = self._cache.get(token)
        if cached is not None:
            principal, expires_at = cached
            if self._clock() <= expires_at + self._leeway:
                self._cache.move_to_end(token)
                return principal
            del self._cache[token]
            raise Unauthenticated("the token has expired", reason="TOKEN_EXPIRED")

        principal, expires_at = self._verify_uncached(token)
        self._cache[token] = (principal, expires_at)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal

    def _verify_uncached(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _invalid("the token is malformed") from None
        kid, alg = header.get("kid"), header.get("alg")
        if alg not in ACCEPTED_ALGORITHMS:
            raise _invalid("the token's algorithm is not accepted")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise _invalid("the token's signing key is unknown")
        if key.algorithm_name != alg:
            raise _invalid("the token's algorithm does not match its key")
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[key.algorithm_name],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired", reason="TOKEN_EXPIRED") from None
        except jwt.InvalidAudienceError:
            raise _invalid("the token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise _invalid("the token is from another issuer") from None
        except jwt.MissingRequiredClaimError as error:
            raise _invalid(f"the token lacks the {error.claim!r} claim") from None
        except jwt.PyJWTError:
            raise _invalid("the token's signature or claims are invalid") from None
        return _principal_from_claims(claims), float(claims["exp"])


def _usable_keys(jwks: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    keys: dict[str, jwt.PyJWK] = {}
    entries = jwks.get("keys")
    if not isinstance(entries, list):
        raise ValueError("a JWKS is an object with a 'keys' list")
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(entry)
        except jwt.PyJWTError:
            log.warning("skipping an unusable JWKS key", extra={"kid": entry["kid"]})
            continue
        if key.algorithm_name not in ACCEPTED_ALGORITHMS:
            continue
        if isinstance(key.key, rsa.RSAPublicKey) and key.key.key_size < _MIN_RSA_BITS:
            log.warning("skipping an RSA key shorter than 2048 bits", extra={"kid": entry["kid"]})
            continue
        keys[entry["kid"]] = key
    return keys


def _principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise _invalid("the token's subject is empty")
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise _invalid("the token's roles must be a list of strings")
    partner_id = claims.get("partner_id")
    if partner_id is not None and (not isinstance(partner_id, str) or not partner_id):
        raise _invalid("the token's partner_id must be a non-empty string")
    if PARTNER_ROLE in roles and partner_id is None:
        raise _invalid("a partner token must carry partner_id")
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise _invalid("the token's scope must be a space-separated string")
    return Principal(
        subject=subject,
        roles=frozenset(roles),
        partner_id=partner_id,
        permissions=frozenset(scope.split()),
    )


SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class TokenIssuer:
    """Mints tokens for development and tests. Production tokens come from the identity provider."""

    def __init__(self, private_key: SigningKey, *, issuer: str, audience: str, kid: str) -> None:
        if isinstance(private_key, ec.EllipticCurvePrivateKey):
            if not isinstance(private_key.curve, ec.SECP256R1):
                raise ValueError("ES256 needs a P-256 key")
            self._algorithm = "ES256"
        else:
            self._algorithm = "RS256"
        self._key = private_key
        self.issuer = issuer
        self.audience = audience
        self.kid = kid

    @classmethod
    def generate(cls, issuer: str, audience: str, *, kid: str = "dev") -> TokenIssuer:
        """A fresh ES256 (P-256) key that lives only in memory."""
        return cls(ec.generate_private_key(ec.SECP256R1()), issuer=issuer, audience=audience, kid=kid)

    @classmethod
    def from_pem(cls, pem: str | bytes, *, issuer: str, audience: str, kid: str = "dev") -> TokenIssuer:
        data = pem.encode() if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ValueError("the PEM must hold an EC P-256 or RSA private key")
        return cls(key, issuer=issuer, audience=audience, kid=kid)

    def private_pem(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def jwks(self) -> dict[str, Any]:
        """The public JWKS (`{"keys": [...]}`) a `JwtVerifier` or Envoy's jwt_authn verifies against."""
        public = self._key.public_key()
        jwk: dict[str, Any]
        if isinstance(public, ec.EllipticCurvePublicKey):
            jwk = dict(ECAlgorithm.to_jwk(public, as_dict=True))
        else:
            jwk = dict(RSAAlgorithm.to_jwk(public, as_dict=True))
        jwk.update(kid=self.kid, alg=self._algorithm, use="sig")
        return {"keys": [jwk]}

    def mint(
        self,
        subject: str,
        roles: Iterable[str],
        *,
        partner_id: str | None = None,
        permissions: Iterable[str] = (),
        ttl: timedelta = timedelta(hours=12),
    ) -> str:
        """A signed token; a negative `ttl` makes one that has already expired (for tests)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "exp": now + int(ttl.total_seconds()),
            "roles": sorted(set(roles)),
        }
        if partner_id is not None:
            claims["partner_id"] = partner_id
        scope = " ".join(sorted(set(permissions)))
        if scope:
            claims["scope"] = scope
        return self.sign(claims)

    def sign(self, claims: Mapping[str, Any], *, kid: str | None = None) -> str:
        """Sign arbitrary claims as they are, for tests of malformed or unusual tokens."""
        return jwt.encode(
            dict(claims), self._key, algorithm=self._algorithm, headers={"kid": kid or self.kid}
        )
