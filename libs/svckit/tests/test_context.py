"""Request ids and deadlines bound per request."""

from __future__ import annotations

import time

import pytest

from svckit.context import (
    accept_request_id,
    current_deadline,
    current_request_id,
    request_scope,
    time_remaining,
)


@pytest.mark.parametrize("candidate", ["abc", "A-b_c.9", "x" * 64])
def test_a_sane_request_id_is_kept(candidate: str) -> None:
    assert accept_request_id(candidate) == candidate


@pytest.mark.parametrize("candidate", [None, "", "x" * 65, "a b", "a\nb", "ü", b"bytes", "a/b"])
def test_anything_else_gets_a_fresh_id(candidate: str | bytes | None) -> None:
    fresh = accept_request_id(candidate)

    assert fresh != candidate
    assert len(fresh) == 32
    assert accept_request_id(fresh) == fresh


def test_request_scope_binds_and_restores() -> None:
    assert current_request_id() == ""
    with request_scope("outer", deadline=time.monotonic() + 10) as outer:
        assert outer == current_request_id() == "outer"
        remaining = time_remaining()
        assert remaining is not None
        assert 9 < remaining <= 10
        with request_scope() as inner:
            assert current_request_id() == inner != "outer"
            assert current_deadline() is None
        assert current_request_id() == "outer"
    assert current_request_id() == ""
    assert time_remaining() is None


def test_time_remaining_is_never_negative() -> None:
    with request_scope("late", deadline=time.monotonic() - 1):
        assert time_remaining() == 0.0
