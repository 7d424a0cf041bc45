"""Resume tokens: opaque to clients, they carry the JetStream stream sequence of the event they came with.

A token is unpadded URL-safe base64 of `v1:<sequence>`, so it survives query strings (the REST mapping),
grpc-web and JSON unchanged, and the version prefix lets the format change without breaking old clients.
"""

import base64
import binascii

VERSION = "v1"
# A token names a stream sequence, an unsigned 64-bit number in JetStream.
MAX_SEQUENCE = 2**64 - 1
# Longer than any token we hand out; refusing longer input keeps decoding cheap.
MAX_TOKEN_LENGTH = 64


class InvalidResumeToken(ValueError):
    """The token is not one this service handed out."""


def encode(sequence: int) -> str:
    """The resume token of the event stored at stream `sequence`."""
    if not 0 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"not a stream sequence: {sequence}")
    raw = f"{VERSION}:{sequence}".encode("ascii")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(token: str) -> int:
    """The stream sequence a token carries; `InvalidResumeToken` for anything we did not hand out."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidResumeToken("the resume token is malformed")
    try:
        padded = token.encode("ascii") + b"=" * (-len(token) % 4)
        text = base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
    except (UnicodeError, binascii.Error):
        raise InvalidResumeToken("the resume token is malformed") from None
    version, separator, digits = text.partition(":")
    # isdecimal() would accept other scripts' digits, which int() would then read: ASCII digits only.
    if version != VERSION or not separator or not digits or not (digits.isascii() and digits.isdigit()):
        raise InvalidResumeToken("the resume token is malformed")
    sequence = int(digits)
    # One spelling per sequence (no leading zeros), so equal tokens mean equal positions.
    if sequence > MAX_SEQUENCE or digits != str(sequence):
        raise InvalidResumeToken("the resume token is malformed")
    return sequence
