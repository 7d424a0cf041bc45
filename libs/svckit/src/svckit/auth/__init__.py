"""Authentication and authorisation (SPEC §10): principals, JWT verification, per-method access policy."""

from svckit.auth.policy import ALWAYS_PUBLIC_PREFIXES, AccessPolicy
from svckit.auth.principal import (
    Principal,
    acting_as,
    bind_principal,
    current_principal,
    principal_or_none,
)
from svckit.auth.tokens import ACCEPTED_ALGORITHMS, JwtVerifier, TokenIssuer, bearer_token

__all__ = [
    "ACCEPTED_ALGORITHMS",
    "ALWAYS_PUBLIC_PREFIXES",
    "AccessPolicy",
    "JwtVerifier",
    "Principal",
    "TokenIssuer",
    "acting_as",
    "bearer_token",
    "bind_principal",
    "current_principal",
    "principal_or_none",
]
