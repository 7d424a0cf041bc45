"""Development bearer tokens (ES256), signed with the dev stack's key, for every role of SPEC §10."""

from __future__ import annotations

from datetime import timedelta

from devstack.secrets import DevSecrets
from svckit.auth import TokenIssuer

ISSUER = "globalcredit-dev"
AUDIENCE = "globalcredit"
TOKEN_TTL = timedelta(hours=12)
# The services' own tokens live as long as a dev stack reasonably runs; production mounts short-lived
# tokens the platform rotates (SERVICE_TOKEN_FILE).
SERVICE_TOKEN_TTL = timedelta(days=7)

ROLES = ("analyst", "senior_analyst", "admin", "partner", "service")
DEFAULT_PARTNER_ID = "partner-dev"
# Who may read identity documents in clear (SPEC §4).
_PERMISSIONS = {"senior_analyst": ("pii:read",), "service": ("pii:read",)}


def issuer(secrets: DevSecrets) -> TokenIssuer:
    return TokenIssuer(secrets.signing_key, issuer=ISSUER, audience=AUDIENCE, kid=secrets.signing_key_id)


def mint_token(
    secrets: DevSecrets,
    role: str,
    *,
    partner_id: str | None = None,
    subject: str | None = None,
    ttl: timedelta = TOKEN_TTL,
) -> str:
    """A token for `role`: subject `dev-<role>` unless given; partners carry `partner_id`."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if partner_id is not None and role != "partner":
        raise ValueError("a partner id only goes with the partner role")
    if role == "partner":
        partner_id = partner_id or DEFAULT_PARTNER_ID
    return issuer(secrets).mint(
        subject or f"dev-{role.replace('_', '-')}",
        [role],
        partner_id=partner_id,
        permissions=_PERMISSIONS.get(role, ()),
        ttl=ttl,
    )
