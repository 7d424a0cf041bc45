"""Per-method authorisation: which roles may call which full gRPC method; anything unlisted is denied."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from svckit.auth.principal import Principal
from svckit.errors import PermissionDenied

# Health checks (probes, load balancers) and reflection (grpcurl) carry no token and reveal no data.
ALWAYS_PUBLIC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

_METHOD = re.compile(r"^/[A-Za-z_][A-Za-z0-9_.]*/[A-Za-z_][A-Za-z0-9_]*$")


class AccessPolicy:
    """Maps full method names (`/pkg.v1.Service/Method`) to the roles allowed to call them.

    Fails closed: a method that is neither listed nor public is denied to everyone.
    """

    def __init__(self, rules: Mapping[str, Iterable[str]], *, public: Iterable[str] = ()) -> None:
        self._rules = {method: frozenset(roles) for method, roles in rules.items()}
        self._public = frozenset(public)
        for method in (*self._rules, *self._public):
            if not _METHOD.fullmatch(method):
                raise ValueError(f"not a full gRPC method name (/package.Service/Method): {method!r}")

    @classmethod
    def for_service(
        cls, service: str, rules: Mapping[str, Iterable[str]], *, public: Iterable[str] = ()
    ) -> AccessPolicy:
        """A policy for one service, keyed by short method name (`{"GetThing": {"admin"}}`)."""
        return cls(
            {f"/{service}/{method}": roles for method, roles in rules.items()},
            public=[f"/{service}/{method}" for method in public],
        )

    def merged(self, other: AccessPolicy) -> AccessPolicy:
        """This policy and `other` together (for a server hosting several services)."""
        overlap = self._rules.keys() & other._rules.keys()
        if overlap:
            raise ValueError(f"methods in both policies: {sorted(overlap)}")
        return AccessPolicy({**self._rules, **other._rules}, public=self._public | other._public)

    @property
    def methods(self) -> frozenset[str]:
        """Every method the policy names, public or role-restricted."""
        return frozenset(self._rules) | self._public

    def is_public(self, method: str) -> bool:
        """True when `method` needs no token at all."""
        return method in self._public or method.startswith(ALWAYS_PUBLIC_PREFIXES)

    def allowed_roles(self, method: str) -> frozenset[str]:
        """The roles that may call `method`; empty when nobody may (unlisted methods included)."""
        return self._rules.get(method, frozenset())

    def authorize(self, method: str, principal: Principal) -> None:
        """Raise `PermissionDenied` unless `principal` holds a role allowed for `method`."""
        check_roles(method, self.allowed_roles(method), principal)


def check_roles(method: str, allowed: frozenset[str], principal: Principal) -> None:
    if not allowed:
        raise PermissionDenied(
            "method is not open to any caller", reason="METHOD_NOT_ALLOWED", metadata={"method": method}
        )
    if principal.roles.isdisjoint(allowed):
        raise PermissionDenied(
            "caller's roles may not call this method", reason="ROLE_NOT_ALLOWED", metadata={"method": method}
        )
