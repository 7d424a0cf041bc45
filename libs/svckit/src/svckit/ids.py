"""Time-ordered identifiers: RFC 9562 UUIDv7, monotonic within this process.

Sorted by creation time they keep B-tree inserts at the right edge of the index and make a natural
keyset-pagination order.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid

_RANDOM_BITS = 74  # rand_a (12) + rand_b (62)
_RANDOM_LIMIT = 1 << _RANDOM_BITS
# Start each millisecond in the lower half of the random space so increments have room before overflow.
_SEED_MASK = (1 << (_RANDOM_BITS - 1)) - 1

_lock = threading.Lock()
_last_ms = 0
_last_random = 0


def _next_state() -> tuple[int, int]:
    global _last_ms, _last_random
    now_ms = time.time_ns() // 1_000_000
    with _lock:
        if now_ms > _last_ms:
            _last_ms, _last_random = now_ms, secrets.randbits(_RANDOM_BITS) & _SEED_MASK
        else:
            # Same millisecond, or the clock stepped back: count up from the last id (RFC 9562 §6.2,
            # method 2, with a random increment so ids stay hard to guess).
            _last_random += 1 + secrets.randbits(32)
            if _last_random >= _RANDOM_LIMIT:
                _last_ms, _last_random = _last_ms + 1, secrets.randbits(_RANDOM_BITS) & _SEED_MASK
        return _last_ms, _last_random


def uuid7() -> uuid.UUID:
    """A new UUIDv7: 48-bit Unix milliseconds, version 7, variant 0b10, 74 random/counter bits."""
    unix_ms, random = _next_state()
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (random >> 62) << 64  # rand_a: 12 bits
    value |= 0b10 << 62
    value |= random & ((1 << 62) - 1)  # rand_b: 62 bits
    return uuid.UUID(int=value)


def uuid7_time_ms(value: uuid.UUID) -> int:
    """The Unix millisecond timestamp a UUIDv7 was made at."""
    if value.version != 7:
        raise ValueError("not a UUIDv7")
    return value.int >> 80
