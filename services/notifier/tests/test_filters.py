"""Filters and partner scope, on decoded status changes (no server)."""

import uuid

import pytest

from globalcredit.intake.v1 import application_pb2, events_pb2
from globalcredit.type.v1 import country_pb2
from notifier import filters
from notifier.events import StatusChange, UndecodableEvent, decode
from notifier.filters import Criteria
from svckit.auth import Principal

S = application_pb2
NAME = f"applications/{uuid.uuid4()}"


def change(
    *,
    name: str = NAME,
    country: int = country_pb2.COUNTRY_ES,
    status: int = S.APPLICATION_STATUS_APPROVED,
    partner_id: str = "",
) -> StatusChange:
    event = events_pb2.ApplicationStatusChanged(
        event_id=str(uuid.uuid4()),
        name=name,
        country=country,
        old_status=S.APPLICATION_STATUS_VALIDATING,
        new_status=status,
        partner_id=partner_id,
        risk_score="12.50",
    )
    return decode(7, event.SerializeToString())


def test_empty_criteria_match_everything():
    assert Criteria().matches(change())
    assert Criteria().matches(change(partner_id="p-1"))


def test_each_filter_narrows():
    assert Criteria(name=NAME).matches(change())
    assert not Criteria(name=f"applications/{uuid.uuid4()}").matches(change())
    assert Criteria(country=country_pb2.COUNTRY_ES).matches(change())
    assert not Criteria(country=country_pb2.COUNTRY_PT).matches(change())
    assert Criteria(status=S.APPLICATION_STATUS_APPROVED).matches(change())
    # The status filter is the new status, never the old one.
    assert not Criteria(status=S.APPLICATION_STATUS_VALIDATING).matches(change())


def test_a_partner_scope_matches_only_that_partners_applications():
    scoped = Criteria(partner_id="p-1")
    assert scoped.matches(change(partner_id="p-1"))
    assert not scoped.matches(change(partner_id="p-2"))
    assert not scoped.matches(change(partner_id=""))  # the lender's own applications


def test_scope_follows_roles():
    assert filters.partner_scope(Principal("a", frozenset({"analyst"}))) is None
    assert filters.partner_scope(Principal("p", frozenset({"partner"}), partner_id="p-1")) == "p-1"
    assert filters.partner_scope(Principal("x", frozenset({"partner", "admin"}), partner_id="p-1")) is None
    with pytest.raises(filters.NotAWatcher):
        filters.partner_scope(Principal("s", frozenset({"service"})))


def test_names_are_canonicalised():
    upper = f"applications/{str(uuid.UUID(NAME.removeprefix('applications/'))).upper()}"
    assert filters.parse_name(upper) == NAME
    for bad in ("applications/x", "application/" + NAME[13:], NAME + "/events", ""):
        with pytest.raises(filters.InvalidName):
            filters.parse_name(bad)


def test_a_change_carries_the_contract_fields_and_its_token():
    decoded = change(partner_id="p-9")
    event = decoded.response.event
    assert (event.name, event.country, event.new_status, event.risk_score) == (
        NAME,
        country_pb2.COUNTRY_ES,
        S.APPLICATION_STATUS_APPROVED,
        "12.50",
    )
    assert event.old_status == S.APPLICATION_STATUS_VALIDATING
    assert event.resume_token
    assert decoded.sequence == 7
    # The partner stays server-side: the contract's event has no such field to leak it through.
    assert "p-9" not in event.SerializeToString().decode("latin-1")


def test_a_payload_that_is_not_a_status_change_is_refused():
    with pytest.raises(UndecodableEvent):
        decode(1, b"\xff\xff\xff")
    with pytest.raises(UndecodableEvent):
        decode(1, events_pb2.ApplicationStatusChanged(name=NAME).SerializeToString())
