"""Who is calling: the authenticated principal and the context variable that holds it during a call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the token's subject, roles, partner (for partners) and permissions."""

    subject: str
    roles: frozenset[str]
    partner_id: str | None = None
    permissions: frozenset[str] = frozenset()

    def has_any_role(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)

    def has_permission(self, permission: str) -> bool:
        return permission in self.permissions


_principal: ContextVar[Principal | None] = ContextVar("svckit_principal", default=None)


def current_principal() -> Principal:
    """The caller of the RPC being handled; a RuntimeError outside an authenticated call."""
    principal = _principal.get()
    if principal is None:
        raise RuntimeError(
            "no authenticated principal: current_principal() called outside an authenticated RPC "
            "(public method, background task, or code not run under the svckit server interceptor)"
        )
    return principal


def principal_or_none() -> Principal | None:
    """The caller of the RPC being handled, or None outside an authenticated call."""
    return _principal.get()


def bind_principal(principal: Principal | None) -> None:
    """Bind for the rest of the current task, without a reset (see `svckit.context.bind_request`)."""
    _principal.set(principal)


@contextmanager
def acting_as(principal: Principal) -> Iterator[Principal]:
    """Run a block as `principal`: for workers that call code expecting a caller, and for tests."""
    token = _principal.set(principal)
    try:
        yield principal
    finally:
        _principal.reset(token)
