"""Request-scoped context: the request id and the caller's deadline, carried in context variables.

The server interceptor binds both per RPC; workers bind a request id per message with `request_scope`.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

REQUEST_ID_KEY = "x-request-id"

# Anything else from a caller (long, or with spaces, quotes, newlines) could forge log lines or bloat them.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

_request_id: ContextVar[str] = ContextVar("svckit_request_id", default="")
_deadline: ContextVar[float | None] = ContextVar("svckit_deadline", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(candidate: str | bytes | None) -> str:
    """The caller's request id when it is a sane token (≤ 64 of `[A-Za-z0-9._-]`), else a new one."""
    if isinstance(candidate, str) and _SANE_REQUEST_ID.fullmatch(candidate):
        return candidate
    return new_request_id()


def current_request_id() -> str:
    """The request id of the RPC or message being handled, or "" outside one."""
    return _request_id.get()


def current_deadline() -> float | None:
    """The `time.monotonic()` instant by which the current RPC's caller wants an answer, if it set one."""
    return _deadline.get()


def time_remaining() -> float | None:
    """Seconds left before the current RPC's deadline (never negative), or None without a deadline."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


@contextmanager
def request_scope(request_id: str | bytes | None = None, *, deadline: float | None = None) -> Iterator[str]:
    """Bind a request id (the given one when sane, else a new one) and optional deadline for a block."""
    rid = accept_request_id(request_id)
    rid_token = _request_id.set(rid)
    deadline_token = _deadline.set(deadline)
    try:
        yield rid
    finally:
        _deadline.reset(deadline_token)
        _request_id.reset(rid_token)


def bind_request(request_id: str, deadline: float | None) -> None:
    """Bind for the rest of the current task, without a reset.

    For code that owns its context: gRPC runs each RPC in its own task, whose context dies with it. A reset
    would fail when a streaming handler's generator is finalised from another task.
    """
    _request_id.set(request_id)
    _deadline.set(deadline)
