"""What a watcher asked to see, and what it may see: filters by application, country and new status,
and the partner scope that the caller's roles impose. Pure: no gRPC, no NATS."""

import uuid
from dataclasses import dataclass

from notifier.events import StatusChange
from svckit.auth import Principal

ANALYST_ROLES = frozenset({"analyst", "senior_analyst", "admin"})
PARTNER_ROLE = "partner"
# Services consume JetStream themselves; no service needs a live stream, so `service` is not here.
WATCHER_ROLES = ANALYST_ROLES | {PARTNER_ROLE}

NAME_PREFIX = "applications/"


class InvalidName(ValueError):
    """Not `applications/{uuid}`."""


class NotAWatcher(PermissionError):
    """A caller whose roles give it no scope (the access policy normally refuses it first)."""


@dataclass(frozen=True, slots=True)
class Criteria:
    """A watcher's filters (None: any) and its scope (`partner_id` None: every partner's applications)."""

    name: str | None = None
    country: int | None = None
    status: int | None = None
    partner_id: str | None = None

    def matches(self, change: StatusChange) -> bool:
        return (
            (self.name is None or change.name == self.name)
            and (self.country is None or change.country == self.country)
            and (self.status is None or change.new_status == self.status)
            and (self.partner_id is None or change.partner_id == self.partner_id)
        )


def parse_name(name: str) -> str:
    """The canonical `applications/{uuid}` (lower-case, hyphenated, as intake writes it)."""
    if not name.startswith(NAME_PREFIX):
        raise InvalidName("must be applications/{id}, the id a UUID")
    try:
        application_id = uuid.UUID(name.removeprefix(NAME_PREFIX))
    except ValueError:
        raise InvalidName("must be applications/{id}, the id a UUID") from None
    return f"{NAME_PREFIX}{application_id}"


def partner_scope(principal: Principal) -> str | None:
    """None when the caller may see every application; else the only partner whose applications it sees.

    Analyst roles win over `partner` on a token that holds both, as in intake.
    """
    if principal.has_any_role(*ANALYST_ROLES):
        return None
    if principal.has_any_role(PARTNER_ROLE) and principal.partner_id:
        return principal.partner_id
    raise NotAWatcher("the caller may not watch applications")
