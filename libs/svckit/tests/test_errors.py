"""ServiceError → google.rpc.Status, without a server (the round trip is in test_interceptors)."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from svckit.errors import (
    STATUS_DETAILS_KEY,
    Aborted,
    AlreadyExists,
    DeadlineExceeded,
    FailedPrecondition,
    FieldViolation,
    Internal,
    InvalidArgument,
    NotFound,
    OutOfRange,
    PermissionDenied,
    ResourceExhausted,
    ServiceError,
    Unauthenticated,
    Unavailable,
    error_details,
    to_rpc_status,
)


@pytest.mark.parametrize(
    ("error_type", "code"),
    [
        (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
        (NotFound, grpc.StatusCode.NOT_FOUND),
        (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
        (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
        (Aborted, grpc.StatusCode.ABORTED),
        (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
        (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
        (ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
        (Unavailable, grpc.StatusCode.UNAVAILABLE),
        (OutOfRange, grpc.StatusCode.OUT_OF_RANGE),
        (DeadlineExceeded, grpc.StatusCode.DEADLINE_EXCEEDED),
        (Internal, grpc.StatusCode.INTERNAL),
    ],
)
def test_each_error_has_its_status_code(error_type: type[ServiceError], code: grpc.StatusCode) -> None:
    status = to_rpc_status(error_type("it failed", reason="IT_FAILED"), "test.domain")

    assert status.code == code
    assert status.details == "it failed"


def test_the_status_carries_error_info_and_bad_request() -> None:
    error = InvalidArgument(
        "bad thing",
        reason="THING_INVALID",
        metadata={"name": "things/1"},
        violations=[FieldViolation("thing.size", "must be positive", reason="POSITIVE")],
    )

    status = to_rpc_status(error, "things.example")

    ((key, raw),) = status.trailing_metadata
    assert key == STATUS_DETAILS_KEY
    proto = status_pb2.Status.FromString(raw)
    assert (proto.code, proto.message) == (grpc.StatusCode.INVALID_ARGUMENT.value[0], "bad thing")
    info, bad_request = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    assert proto.details[0].Unpack(info)
    assert proto.details[1].Unpack(bad_request)
    assert (info.reason, info.domain, dict(info.metadata)) == (
        "THING_INVALID",
        "things.example",
        {"name": "things/1"},
    )
    (violation,) = bad_request.field_violations
    assert (violation.field, violation.description, violation.reason) == (
        "thing.size",
        "must be positive",
        "POSITIVE",
    )


def test_without_violations_there_is_no_bad_request() -> None:
    status = to_rpc_status(NotFound("gone", reason="GONE"), "d")

    proto = status_pb2.Status.FromString(status.trailing_metadata[0][1])
    assert len(proto.details) == 1


@pytest.mark.parametrize("reason", ["lower_case", "HAS SPACE", "", "X" * 64, "_LEADING", "TRAILING_"])
def test_a_reason_must_be_upper_snake_case(reason: str) -> None:
    with pytest.raises(ValueError, match="UPPER_SNAKE_CASE"):
        NotFound("x", reason=reason)


def test_error_details_rejects_what_is_not_an_rpc_error() -> None:
    with pytest.raises(TypeError):
        error_details(grpc.RpcError())
