"""Opaque page tokens for keyset pagination. A token remembers where the previous page ended and the
filters it was issued for, so that it cannot be replayed with other filters (AIP-158)."""

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


class InvalidPageToken(ValueError):
    """The token is not one of ours, or was issued for other filters."""


class InvalidPageSize(ValueError):
    """A negative page size."""


@dataclass(frozen=True)
class PageToken:
    """Where the next page starts (exclusive), for one set of filters."""

    position: str
    scope: str


def page_size(requested: int) -> int:
    """0 means the default; above the maximum means the maximum."""
    if requested < 0:
        raise InvalidPageSize("page_size must not be negative")
    return DEFAULT_PAGE_SIZE if requested == 0 else min(requested, MAX_PAGE_SIZE)


def scope_of(*filters: object) -> str:
    """A short digest of the filters a listing ran with."""
    return hashlib.sha256(repr(filters).encode()).hexdigest()[:16]


def encode(token: PageToken) -> str:
    data = json.dumps({"p": token.position, "s": token.scope}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode(text: str, *, scope: str) -> PageToken | None:
    """The token's position; None for an empty token (the first page)."""
    if not text:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        token = PageToken(position=str(data["p"]), scope=str(data["s"]))
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise InvalidPageToken("the page token is not valid") from error
    if token.scope != scope:
        raise InvalidPageToken("the page token was issued for other filters")
    return token
