"""JWT verification, the development issuer, the access policy and the principal context."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from svckit.auth import (
    AccessPolicy,
    JwtVerifier,
    Principal,
    TokenIssuer,
    acting_as,
    bearer_token,
    current_principal,
    principal_or_none,
)
from svckit.errors import PermissionDenied, Unauthenticated

ISSUER, AUDIENCE = "iss-test", "aud-test"


@pytest.fixture(scope="module")
def dev_issuer() -> TokenIssuer:
    return TokenIssuer.generate(ISSUER, AUDIENCE, kid="k1")


@pytest.fixture
def verifier(dev_issuer: TokenIssuer) -> JwtVerifier:
    return JwtVerifier(dev_issuer.jwks(), issuer=ISSUER, audience=AUDIENCE, leeway=5)


def reason_of(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as raised:
        verifier.verify(token)
    assert token not in raised.value.message
    return raised.value.reason


def sign(issuer: TokenIssuer, claims: dict[str, Any], kid: str | None = None) -> str:
    return issuer.sign(claims, kid=kid)


def base_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "someone",
        "iat": now,
        "exp": now + 600,
        "roles": ["analyst"],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_a_minted_token_verifies_to_its_principal(verifier: JwtVerifier, dev_issuer: TokenIssuer) -> None:
    token = dev_issuer.mint("p-user", ["partner"], partner_id="p-9", permissions=["pii:read", "x:y"])

    assert verifier.verify(token) == Principal(
        subject="p-user",
        roles=frozenset({"partner"}),
        partner_id="p-9",
        permissions=frozenset({"pii:read", "x:y"}),
    )


def test_an_rsa_issuer_works_too() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issuer = TokenIssuer(key, issuer=ISSUER, audience=AUDIENCE, kid="rsa")
    verifier = JwtVerifier(issuer.jwks(), issuer=ISSUER, audience=AUDIENCE)

    assert verifier.verify(issuer.mint("svc", ["service"])).subject == "svc"
    assert issuer.jwks()["keys"][0]["alg"] == "RS256"


def test_the_issuer_round_trips_through_pem(dev_issuer: TokenIssuer, verifier: JwtVerifier) -> None:
    again = TokenIssuer.from_pem(dev_issuer.private_pem(), issuer=ISSUER, audience=AUDIENCE, kid="k1")

    assert verifier.verify(again.mint("a", ["analyst"])).subject == "a"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        (base_claims(exp=int(time.time()) - 60), "TOKEN_EXPIRED"),
        (base_claims(aud="someone-else"), "TOKEN_INVALID"),
        (base_claims(iss="someone-else"), "TOKEN_INVALID"),
        (base_claims(exp=None), "TOKEN_INVALID"),
        (base_claims(iat=None), "TOKEN_INVALID"),
        (base_claims(sub=None), "TOKEN_INVALID"),
        (base_claims(sub=""), "TOKEN_INVALID"),
        (base_claims(roles="analyst"), "TOKEN_INVALID"),
        (base_claims(roles=["partner"]), "TOKEN_INVALID"),  # a partner without partner_id
        (base_claims(scope=["pii:read"]), "TOKEN_INVALID"),
    ],
)
def test_bad_claims_are_rejected(
    verifier: JwtVerifier, dev_issuer: TokenIssuer, claims: dict[str, Any], reason: str
) -> None:
    assert reason_of(verifier, sign(dev_issuer, claims)) == reason


def test_the_leeway_tolerates_small_clock_skew(verifier: JwtVerifier, dev_issuer: TokenIssuer) -> None:
    token = sign(dev_issuer, base_claims(exp=int(time.time()) - 2))

    assert verifier.verify(token).subject == "someone"


def test_an_unknown_kid_is_rejected(verifier: JwtVerifier, dev_issuer: TokenIssuer) -> None:
    assert reason_of(verifier, sign(dev_issuer, base_claims(), kid="other")) == "TOKEN_INVALID"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_hs256_keyed_with_the_public_key_is_rejected(verifier: JwtVerifier, dev_issuer: TokenIssuer) -> None:
    # The classic algorithm-confusion attack: an HMAC whose secret is the (public) verification key.
    secret = json.dumps(dev_issuer.jwks()["keys"][0]).encode()
    signing_input = (
        f"{b64(json.dumps({'alg': 'HS256', 'kid': 'k1'}).encode())}.{b64(json.dumps(base_claims()).encode())}"
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()

    assert reason_of(verifier, f"{signing_input}.{b64(signature)}") == "TOKEN_INVALID"


def test_an_unsigned_token_is_rejected(verifier: JwtVerifier) -> None:
    header = b64(json.dumps({"alg": "none", "kid": "k1"}).encode())
    token = f"{header}.{b64(json.dumps(base_claims()).encode())}."

    assert reason_of(verifier, token) == "TOKEN_INVALID"


def test_garbage_is_rejected(verifier: JwtVerifier) -> None:
    assert reason_of(verifier, "not.a.jwt") == "TOKEN_INVALID"


def test_a_cached_token_still_expires(dev_issuer: TokenIssuer) -> None:
    now = [time.time()]
    verifier = JwtVerifier(
        dev_issuer.jwks(), issuer=ISSUER, audience=AUDIENCE, leeway=0, clock=lambda: now[0]
    )
    token = dev_issuer.mint("someone", ["analyst"], ttl=timedelta(minutes=10))
    assert verifier.verify(token).subject == "someone"
    assert verifier.verify(token).subject == "someone"  # from the cache

    now[0] += 11 * 60

    assert reason_of(verifier, token) == "TOKEN_EXPIRED"


def test_a_jwks_without_usable_keys_is_refused() -> None:
    with pytest.raises(ValueError, match="no usable"):
        JwtVerifier({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}, issuer="i", audience="a")


def test_minting_with_a_negative_ttl_gives_an_expired_token(
    verifier: JwtVerifier, dev_issuer: TokenIssuer
) -> None:
    assert (
        reason_of(verifier, dev_issuer.mint("x", ["analyst"], ttl=timedelta(minutes=-1))) == "TOKEN_EXPIRED"
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer  abc ", "abc"), ("BEARER x", "x")],
)
def test_bearer_token_is_parsed(header: str, expected: str) -> None:
    assert bearer_token(header) == expected


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "TOKEN_MISSING"),
        ("", "TOKEN_MISSING"),
        ("Basic abc", "TOKEN_INVALID"),
        ("Bearer", "TOKEN_INVALID"),
    ],
)
def test_a_bad_authorization_header_is_unauthenticated(header: str | None, reason: str) -> None:
    with pytest.raises(Unauthenticated) as raised:
        bearer_token(header)
    assert raised.value.reason == reason


POLICY = AccessPolicy.for_service("pkg.v1.Things", {"Get": {"analyst"}, "Delete": {"admin"}}, public=["Ping"])
ANALYST = Principal("a", frozenset({"analyst"}))


def test_the_policy_allows_listed_roles_only() -> None:
    POLICY.authorize("/pkg.v1.Things/Get", ANALYST)

    with pytest.raises(PermissionDenied) as raised:
        POLICY.authorize("/pkg.v1.Things/Delete", ANALYST)
    assert raised.value.reason == "ROLE_NOT_ALLOWED"


def test_the_policy_fails_closed_for_unlisted_methods() -> None:
    with pytest.raises(PermissionDenied) as raised:
        POLICY.authorize("/pkg.v1.Things/Create", Principal("root", frozenset({"admin", "analyst"})))
    assert raised.value.reason == "METHOD_NOT_ALLOWED"


def test_health_reflection_and_declared_methods_are_public() -> None:
    assert POLICY.is_public("/grpc.health.v1.Health/Check")
    assert POLICY.is_public("/grpc.health.v1.Health/Watch")
    assert POLICY.is_public("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
    assert POLICY.is_public("/pkg.v1.Things/Ping")
    assert not POLICY.is_public("/pkg.v1.Things/Get")
    assert not POLICY.is_public("/grpc.healthz/Check")


def test_the_policy_rejects_malformed_method_names() -> None:
    with pytest.raises(ValueError, match="full gRPC method"):
        AccessPolicy({"pkg.v1.Things/Get": {"admin"}})


def test_policies_merge_but_never_overlap() -> None:
    merged = POLICY.merged(AccessPolicy({"/pkg.v1.Other/List": {"analyst"}}))
    assert merged.allowed_roles("/pkg.v1.Other/List") == {"analyst"}
    assert merged.is_public("/pkg.v1.Things/Ping")

    with pytest.raises(ValueError, match="both"):
        POLICY.merged(AccessPolicy({"/pkg.v1.Things/Get": {"admin"}}))


def test_principal_role_and_permission_checks() -> None:
    principal = Principal("p", frozenset({"partner"}), partner_id="p-1", permissions=frozenset({"pii:read"}))

    assert principal.has_any_role("analyst", "partner")
    assert not principal.has_any_role("admin")
    assert principal.has_permission("pii:read")
    assert not principal.has_permission("pii:write")


def test_current_principal_outside_a_call_is_a_clear_error() -> None:
    assert principal_or_none() is None
    with pytest.raises(RuntimeError, match="outside an authenticated RPC"):
        current_principal()


def test_acting_as_binds_a_principal_for_a_block() -> None:
    with acting_as(ANALYST):
        assert current_principal() is ANALYST
    assert principal_or_none() is None
