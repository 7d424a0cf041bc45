"""The errors intake's domain and use cases raise, each with a stable `reason` code.

The API layer turns them into `google.rpc.Status` (reason → `ErrorInfo.reason`, metadata →
`ErrorInfo.metadata`, description → the status message). Nothing here ever carries an applicant's name
or identity document: descriptions say what is wrong in general terms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from intake.domain import Actor, Status


class DomainError(Exception):
    """Base of every error the domain raises: a stable reason code, a PII-free description, metadata."""

    reason: str
    description: str
    metadata: Mapping[str, str]

    def __init__(self, reason: str, description: str, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(description)
        self.reason = reason
        self.description = description
        # Read-only, so that a handler cannot alter what a later handler sees.
        self.metadata = MappingProxyType(dict(metadata or {}))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reason={self.reason!r}, description={self.description!r})"


@dataclass(frozen=True)
class Violation:
    """One bad field of a request: its path (proto field names, relative to the application), a stable
    reason and a description that never repeats the value."""

    field: str
    reason: str
    description: str


class ApplicationInvalid(DomainError):
    """A new application breaks one or more rules; `violations` lists every one of them."""

    violations: tuple[Violation, ...]

    def __init__(self, violations: tuple[Violation, ...]) -> None:
        if not violations:
            raise ValueError("ApplicationInvalid needs at least one violation")
        count = len(violations)
        noun = "field is" if count == 1 else "fields are"
        super().__init__("INVALID_APPLICATION", f"the application is invalid: {count} {noun} wrong")
        self.violations = violations


class InvalidStatusTransition(DomainError):
    """The workflow has no move from `current` to `target`."""

    def __init__(self, current: Status, target: Status) -> None:
        super().__init__(
            "INVALID_STATUS_TRANSITION",
            f"an application cannot move from {current} to {target}",
            {"from": str(current), "to": str(target)},
        )
        self.current = current
        self.target = target


class TransitionNotPermitted(DomainError):
    """The move exists in the workflow, but `actor` may not make it."""

    def __init__(self, current: Status, target: Status, actor: Actor) -> None:
        super().__init__(
            "TRANSITION_NOT_PERMITTED",
            f"the move from {current} to {target} is not permitted to {actor}",
            {"from": str(current), "to": str(target), "actor": str(actor)},
        )
        self.current = current
        self.target = target
        self.actor = actor


class ReasonRequired(DomainError):
    """A status change came without a usable reason."""

    def __init__(self) -> None:
        super().__init__("REASON_REQUIRED", "a reason of 1 to 1000 characters is required")


class ApplicationNotFound(DomainError):
    """No application has that name (or the caller may not see it, which must look the same)."""

    def __init__(self, name: str = "") -> None:
        super().__init__(
            "APPLICATION_NOT_FOUND", "the application does not exist", {"application": name} if name else None
        )
        self.name = name


class EtagMismatch(DomainError):
    """The application changed since the caller read the etag it sent."""

    def __init__(self, name: str = "") -> None:
        super().__init__(
            "ETAG_MISMATCH",
            "the application has changed since it was read; read it again",
            {"application": name} if name else None,
        )
        self.name = name


class RequestIdReused(DomainError):
    """A `request_id` came back with a different payload from the one it first created."""

    def __init__(self, request_id: str = "") -> None:
        super().__init__(
            "REQUEST_ID_REUSED",
            "the request id was already used for a different application",
            {"request_id": request_id} if request_id else None,
        )
        self.request_id = request_id


class DuplicateApplication(DomainError):
    """The same document already has an open application in the same country."""

    def __init__(self, existing_name: str) -> None:
        super().__init__(
            "DUPLICATE_APPLICATION",
            "an open application already exists for this identity document in this country",
            {"application": existing_name},
        )
        self.existing_name = existing_name


class WebhookIdReused(DomainError):
    """A webhook id was already recorded for another application or another payload."""

    def __init__(self, webhook_id: str = "") -> None:
        super().__init__(
            "WEBHOOK_ID_REUSED",
            "the webhook id was already recorded with a different confirmation",
            {"webhook_id": webhook_id} if webhook_id else None,
        )
        self.webhook_id = webhook_id


class PiiReadNotPermitted(DomainError):
    """The caller asked for the identity document in clear without the `pii:read` permission."""

    def __init__(self) -> None:
        super().__init__("PII_READ_NOT_PERMITTED", "reading the identity document in clear needs pii:read")


class SecondApproverRequired(DomainError):
    """The analyst who asked for a four-eyes approval tried to confirm it themselves."""

    def __init__(self) -> None:
        super().__init__(
            "SECOND_APPROVER_REQUIRED",
            "an approval above the country's four-eyes threshold needs a second, different approver",
        )
