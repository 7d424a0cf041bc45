"""NotifierService over gRPC: the request turned into filters and a starting point, the watch's events turned
into responses, and notifier's errors into `google.rpc.Status`."""

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import grpc

from globalcredit.intake.v1 import application_pb2
from globalcredit.notifier.v1 import notifier_service_pb2, notifier_service_pb2_grpc
from globalcredit.type.v1 import country_pb2
from notifier import filters, tokens
from notifier.errors import (
    EventsUnavailable,
    ResumeTokenExpired,
    ShuttingDown,
    WatchEnded,
    WatcherLimitReached,
    WatcherTooSlow,
)
from notifier.filters import Criteria
from notifier.watch import Hub
from svckit import errors
from svckit.auth import AccessPolicy, current_principal

ERROR_DOMAIN = "notifier.globalcredit.com"
SERVICE_NAME = "globalcredit.notifier.v1.NotifierService"
Context = grpc.aio.ServicerContext[Any, Any]

ACCESS_POLICY = AccessPolicy.for_service(
    SERVICE_NAME, {"WatchApplications": tuple(sorted(filters.WATCHER_ROLES))}
)

_COUNTRIES = frozenset(country_pb2.Country.values()) - {country_pb2.COUNTRY_UNSPECIFIED}
_STATUSES = frozenset(application_pb2.ApplicationStatus.values()) - {
    application_pb2.APPLICATION_STATUS_UNSPECIFIED
}


class NotifierApi(notifier_service_pb2_grpc.NotifierServiceServicer):
    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    async def WatchApplications(
        self, request: notifier_service_pb2.WatchApplicationsRequest, context: Context
    ) -> AsyncIterator[notifier_service_pb2.WatchApplicationsResponse]:
        criteria, after = _watch_request(request)
        with _translated():
            watch = self._hub.watch(criteria, after=after)
            # Release the watch when the RPC ends however it ends: a cancelled stream's generator may
            # be finalised late, and a watch left registered would keep taking events.
            # (The stubs type the callback as a class, not a protocol, so no function matches it.)
            context.add_done_callback(lambda _: watch.close(None))  # type: ignore[arg-type]
            async with watch:
                while True:
                    change = await watch.next()
                    yield change.response


def register(server: grpc.aio.Server, api: NotifierApi) -> None:
    notifier_service_pb2_grpc.add_NotifierServiceServicer_to_server(api, server)


def _watch_request(request: notifier_service_pb2.WatchApplicationsRequest) -> tuple[Criteria, int | None]:
    """The filters and scope, and the sequence to resume after; one BadRequest listing every bad field."""
    try:
        scope = filters.partner_scope(current_principal())
    except filters.NotAWatcher as error:
        raise errors.PermissionDenied(str(error), reason="ROLE_NOT_ALLOWED") from None
    violations: list[errors.FieldViolation] = []
    name: str | None = None
    if request.name:
        try:
            name = filters.parse_name(request.name)
        except filters.InvalidName as error:
            violations.append(errors.FieldViolation("name", str(error), "INVALID_NAME"))
    if request.country and request.country not in _COUNTRIES:
        violations.append(errors.FieldViolation("country", "not a known country", "COUNTRY_INVALID"))
    if request.status and request.status not in _STATUSES:
        violations.append(errors.FieldViolation("status", "not a known status", "STATUS_INVALID"))
    after: int | None = None
    if request.resume_token:
        try:
            after = tokens.decode(request.resume_token)
        except tokens.InvalidResumeToken as error:
            violations.append(errors.FieldViolation("resume_token", str(error), "INVALID_RESUME_TOKEN"))
    if violations:
        # The reason names the first problem; the BadRequest lists them all.
        reason = {"name": "INVALID_NAME", "resume_token": "INVALID_RESUME_TOKEN"}.get(
            violations[0].field, "INVALID_FILTER"
        )
        raise errors.InvalidArgument("the watch request is invalid", reason=reason, violations=violations)
    criteria = Criteria(
        name=name,
        country=request.country or None,
        status=request.status or None,
        partner_id=scope,
    )
    return criteria, after


@contextmanager
def _translated() -> Iterator[None]:
    """Notifier's refusals and endings → gRPC statuses (the svckit interceptor sends them)."""
    try:
        yield
    except ResumeTokenExpired as error:
        raise errors.OutOfRange(str(error), reason="RESUME_TOKEN_EXPIRED") from None
    except WatcherLimitReached as error:
        raise errors.ResourceExhausted(str(error), reason="WATCHER_LIMIT_REACHED") from None
    except WatcherTooSlow as error:
        raise errors.ResourceExhausted(str(error), reason=error.reason) from None
    except (ShuttingDown, EventsUnavailable) as error:
        raise errors.Unavailable(str(error), reason=error.reason) from None
    except WatchEnded as error:
        raise errors.Unavailable(str(error), reason=error.reason) from None
