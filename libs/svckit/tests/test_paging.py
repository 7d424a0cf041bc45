"""Page tokens: opaque, bound to the filters they were issued for, and refused when tampered with."""

import pytest

from svckit import paging


def test_a_token_round_trips_its_position():
    scope = paging.scope_of("ES", None)
    token = paging.encode(paging.PageToken(position="01a2-position", scope=scope))
    assert paging.decode(token, scope=scope) == paging.PageToken("01a2-position", scope)


def test_an_empty_token_means_the_first_page():
    assert paging.decode("", scope=paging.scope_of()) is None


def test_a_token_is_refused_with_other_filters():
    token = paging.encode(paging.PageToken(position="p", scope=paging.scope_of("ES", None)))
    with pytest.raises(paging.InvalidPageToken, match="other filters"):
        paging.decode(token, scope=paging.scope_of("PT", None))


@pytest.mark.parametrize("garbage", ["%%%", "bm90IGpzb24", "eyJ4IjoxfQ", "W10"])
def test_a_token_that_is_not_ours_is_refused(garbage):
    with pytest.raises(paging.InvalidPageToken):
        paging.decode(garbage, scope=paging.scope_of())


@pytest.mark.parametrize(("requested", "size"), [(0, 50), (1, 1), (999, 999), (1000, 1000), (5000, 1000)])
def test_page_size_defaults_and_caps(requested, size):
    assert paging.page_size(requested) == size


def test_a_negative_page_size_is_refused():
    with pytest.raises(paging.InvalidPageSize):
        paging.page_size(-1)
