"""Filters (application, country, new status) and partner scoping, applied before anything is sent."""

import asyncio

from notifier_watchers import PATHS, create_and_drive, drive, transitions

from globalcredit.intake.v1 import application_pb2
from globalcredit.type.v1 import country_pb2
from svckit.testing.polling import eventually

S = application_pb2


async def test_filters_by_name_country_and_status(notifier, intake):
    workflow = intake.workflow()
    target = await workflow.create("ES")  # created before the watch: its name is the filter
    everything = notifier.watch("analyst")
    by_name = notifier.watch("analyst", name=target.name)
    by_country = notifier.watch("analyst", country=country_pb2.COUNTRY_PT)
    by_status = notifier.watch("analyst", status=S.APPLICATION_STATUS_APPROVED)
    portuguese_rejections = notifier.watch(
        "senior_analyst", country=country_pb2.COUNTRY_PT, status=S.APPLICATION_STATUS_REJECTED
    )
    await notifier.live_watchers(5)

    spanish, portuguese_completed, portuguese_rejected, _ = await asyncio.gather(
        create_and_drive(workflow, "reviewed_then_cancelled", "ES"),
        create_and_drive(workflow, "completed", "PT"),
        create_and_drive(workflow, "rejected", "PT"),
        drive(workflow, target, "completed"),
    )
    names = (target.name, spanish, portuguese_completed, portuguese_rejected)
    expected_total = 3 + 4 + 3 + 2
    await eventually(lambda: len(everything.of(*names)) == expected_total)
    # The unfiltered watcher has seen every change, so the filtered ones have had every chance to.
    await eventually(lambda: len(by_name.events) == 3)
    await eventually(lambda: len(by_country.of(*names)) == 5)
    await eventually(lambda: len(by_status.of(*names)) == 3)
    await eventually(lambda: len(portuguese_rejections.of(*names)) == 1)

    assert transitions(by_name.events, target.name) == PATHS["completed"]
    assert {event.name for event in by_name.events} == {target.name}
    assert transitions(by_country.of(*names), portuguese_completed) == PATHS["completed"]
    assert transitions(by_country.of(*names), portuguese_rejected) == PATHS["rejected"]
    assert all(event.country == country_pb2.COUNTRY_PT for event in by_country.events)
    assert sorted(event.name for event in by_status.of(*names)) == sorted(
        [target.name, spanish, portuguese_completed]
    )
    assert all(event.new_status == S.APPLICATION_STATUS_APPROVED for event in by_status.events)
    assert [event.name for event in portuguese_rejections.of(*names)] == [portuguese_rejected]
    assert all(
        event.country == country_pb2.COUNTRY_PT and event.new_status == S.APPLICATION_STATUS_REJECTED
        for event in portuguese_rejections.events
    )
    for watcher in (everything, by_name, by_country, by_status, portuguese_rejections):
        await watcher.close()


async def test_a_partner_sees_only_its_own_applications(notifier, intake):
    alpha = intake.workflow("partner", partner_id="partner-alpha")
    beta = intake.workflow("partner", partner_id="partner-beta")
    analyst = notifier.watch("analyst")
    alpha_watch = notifier.watch("partner", partner_id="partner-alpha")
    beta_watch = notifier.watch("partner", partner_id="partner-beta")
    await notifier.live_watchers(3)
    beta_first = await beta.create("ES")
    # A partner naming another partner's application learns nothing about it.
    alpha_peeking = notifier.watch("partner", partner_id="partner-alpha", name=beta_first.name)
    await notifier.live_watchers(4)

    alpha_names = await asyncio.gather(*(create_and_drive(alpha, "withdrawn") for _ in range(3)))
    beta_names = await asyncio.gather(*(create_and_drive(beta, "withdrawn") for _ in range(2)))
    await drive(beta, beta_first, "withdrawn")
    beta_names.append(beta_first.name)
    await eventually(lambda: len(analyst.of(*alpha_names, *beta_names)) == 6)
    await eventually(lambda: len(alpha_watch.of(*alpha_names)) == 3)
    await eventually(lambda: len(beta_watch.of(*beta_names)) == 3)

    assert {event.name for event in alpha_watch.events} == set(alpha_names)
    assert {event.name for event in beta_watch.events} == set(beta_names)
    assert alpha_peeking.events == []
    for watcher in (analyst, alpha_watch, beta_watch, alpha_peeking):
        await watcher.close()
