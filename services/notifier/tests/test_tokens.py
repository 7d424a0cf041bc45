"""Resume tokens: opaque, URL-safe, one spelling per stream sequence, and nothing else accepted."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier import tokens


@given(st.integers(min_value=0, max_value=tokens.MAX_SEQUENCE))
def test_a_token_round_trips_its_sequence(sequence):
    token = tokens.encode(sequence)
    assert tokens.decode(token) == sequence
    assert token.isascii()
    assert not set(token) & set("=+/")


def test_a_token_is_base64_of_the_versioned_sequence():
    assert base64.urlsafe_b64decode(tokens.encode(42) + "==") == b"v1:42"


def test_padding_is_accepted():
    assert tokens.decode(base64.urlsafe_b64encode(b"v1:7").decode()) == 7


@pytest.mark.parametrize(
    "raw",
    [b"v1:", b"v2:5", b"v1:-1", b"v1:+5", b"v1:007", b"v1:5 ", b"v15", b"v1:\xd9\xa3", b"", b"v1:1:2"],
)
def test_anything_but_a_canonical_v1_sequence_is_refused(raw):
    with pytest.raises(tokens.InvalidResumeToken):
        tokens.decode(base64.urlsafe_b64encode(raw).decode().rstrip("="))


@pytest.mark.parametrize(
    "token", ["", "!!!!", "djE6NQ=x", "é", "A" * 65, "djE6" + "MTg0NDY3NDQwNzM3MDk1NTE2MTY"]
)
def test_garbage_and_out_of_range_tokens_are_refused(token):
    with pytest.raises(tokens.InvalidResumeToken):
        tokens.decode(token)
