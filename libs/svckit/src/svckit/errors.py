"""Service errors and their mapping to rich `google.rpc.Status` (ErrorInfo, BadRequest) on the wire.

Servers raise a `ServiceError` subclass; the interceptor turns it into a status. Clients and tests decode
one with `error_details`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import grpc
import grpc.aio
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

STATUS_DETAILS_KEY = "grpc-status-details-bin"

# AIP-193: a reason is UPPER_SNAKE_CASE and at most 63 characters, and it is part of the API contract.
_REASON = re.compile(r"^[A-Z][A-Z0-9_]{0,61}[A-Z0-9]$")


@dataclass(frozen=True)
class FieldViolation:
    """One invalid field; `field` is the request's field path (`application.applicant.full_name`)."""

    field: str
    description: str
    reason: str = ""


class ServiceError(Exception):
    """An expected failure that the caller may act on; subclasses fix the gRPC status code."""

    code: ClassVar[grpc.StatusCode] = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        metadata: Mapping[str, str] | None = None,
        violations: Sequence[FieldViolation] = (),
    ) -> None:
        if not _REASON.fullmatch(reason):
            raise ValueError(f"error reason must be UPPER_SNAKE_CASE, at most 63 characters: {reason!r}")
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.metadata: Mapping[str, str] = dict(metadata or {})
        self.violations: tuple[FieldViolation, ...] = tuple(violations)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, reason={self.reason!r})"


class InvalidArgument(ServiceError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(ServiceError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(ServiceError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(ServiceError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(ServiceError):
    code = grpc.StatusCode.ABORTED


class PermissionDenied(ServiceError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(ServiceError):
    code = grpc.StatusCode.UNAUTHENTICATED


class ResourceExhausted(ServiceError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Unavailable(ServiceError):
    code = grpc.StatusCode.UNAVAILABLE


class OutOfRange(ServiceError):
    code = grpc.StatusCode.OUT_OF_RANGE


class DeadlineExceeded(ServiceError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class Internal(ServiceError):
    code = grpc.StatusCode.INTERNAL


def to_status_proto(error: ServiceError, domain: str) -> status_pb2.Status:
    """The `google.rpc.Status` for `error`: ErrorInfo always, BadRequest when there are violations."""
    status = status_pb2.Status(code=error.code.value[0], message=error.message)
    status.details.add().Pack(
        error_details_pb2.ErrorInfo(reason=error.reason, domain=domain, metadata=dict(error.metadata))
    )
    if error.violations:
        status.details.add().Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=v.field, description=v.description, reason=v.reason
                    )
                    for v in error.violations
                ]
            )
        )
    return status


def to_rpc_status(error: ServiceError, domain: str) -> grpc.Status:
    """The `grpc.Status` (code, message, `grpc-status-details-bin` trailer) to abort a call with."""
    status: grpc.Status = rpc_status.to_status(to_status_proto(error, domain))
    return status


@dataclass(frozen=True)
class ErrorDetails:
    """What a client learns from a failed call: the code, message and the decoded rich details."""

    code: grpc.StatusCode
    message: str
    reason: str = ""
    domain: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    violations: tuple[FieldViolation, ...] = ()


def error_details(error: grpc.aio.AioRpcError | grpc.RpcError) -> ErrorDetails:
    """Decode a failed call's status, ErrorInfo and BadRequest field violations."""
    if isinstance(error, grpc.aio.AioRpcError):
        code, message = error.code(), error.details() or ""
        trailers: Sequence[tuple[str, str | bytes]] = tuple(error.trailing_metadata() or ())
    else:
        # A synchronous client's RpcError is also its grpc.Call (the stubs cannot express that).
        call: Any = error
        if not callable(getattr(call, "code", None)):
            raise TypeError(f"not a completed RPC error: {type(error).__name__}")
        code, message = call.code(), call.details() or ""
        trailers = tuple(call.trailing_metadata() or ())

    raw = next((value for key, value in trailers if key == STATUS_DETAILS_KEY), None)
    if not isinstance(raw, bytes):
        return ErrorDetails(code=code, message=message)
    try:
        status = status_pb2.Status.FromString(raw)
    except DecodeError:
        return ErrorDetails(code=code, message=message)

    reason = domain = ""
    metadata: dict[str, str] = {}
    violations: list[FieldViolation] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations.extend(
                FieldViolation(field=v.field, description=v.description, reason=v.reason)
                for v in bad_request.field_violations
            )
    return ErrorDetails(
        code=code,
        message=message,
        reason=reason,
        domain=domain,
        metadata=metadata,
        violations=tuple(violations),
    )
