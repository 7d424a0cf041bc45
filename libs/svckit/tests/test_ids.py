"""UUIDv7: layout, time order, and strict monotonicity within a process."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from hypothesis import given
from hypothesis import strategies as st

from svckit.ids import uuid7, uuid7_time_ms


def test_version_and_variant_bits() -> None:
    value = uuid7()

    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert (value.int >> 62) & 0b11 == 0b10


def test_the_timestamp_is_now_in_milliseconds() -> None:
    before = time.time_ns() // 1_000_000
    value = uuid7()
    after = time.time_ns() // 1_000_000

    # Within one process the clock may be borrowed from by at most a few ms under heavy generation.
    assert before <= uuid7_time_ms(value) <= after + 5


@given(st.integers(min_value=2, max_value=3000))
def test_ids_made_in_sequence_are_strictly_increasing(count: int) -> None:
    values = [uuid7() for _ in range(count)]

    assert values == sorted(values)
    assert len(set(values)) == count
    assert [v.bytes for v in values] == sorted(v.bytes for v in values)


def test_ids_from_many_threads_never_collide() -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        batches = list(pool.map(lambda _: [uuid7() for _ in range(2000)], range(8)))

    assert len({value for batch in batches for value in batch}) == 16_000
    assert all(batch == sorted(batch) for batch in batches)
