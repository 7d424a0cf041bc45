"""Four eyes (SPEC §5): an analyst's approval above the country's threshold waits for a second, different
analyst; below it, one approval suffices; both steps are in the audit trail."""

from collections.abc import Awaitable

import grpc
import pytest
from intake_workflow import Workflow

from globalcredit.intake.v1 import application_pb2, intake_service_pb2
from svckit.errors import ErrorDetails, error_details

S = application_pb2
UR, A, RJ = S.APPLICATION_STATUS_UNDER_REVIEW, S.APPLICATION_STATUS_APPROVED, S.APPLICATION_STATUS_REJECTED

# Just above each threshold, within the country's maximum. Portugal's maximum (30,000) equals its
# threshold, so no Portuguese approval ever needs a second analyst.
ABOVE_THRESHOLD = {
    "ES": ("30000.01", "3200.00"),
    "IT": ("30000.01", "2600.00"),
    "MX": ("150000.01", "25000.00"),
    "CO": ("30000000.01", "6000000.00"),
    "BR": ("60000.01", "8000.00"),
}


async def refusal(call: Awaitable[object]) -> ErrorDetails:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return error_details(caught.value)


@pytest.fixture
async def workflow(shared_intake, rng) -> Workflow:
    return Workflow(shared_intake.client("analyst"), shared_intake.client("service", subject="scoring"), rng)


async def approve(client, application: application_pb2.Application, reason: str = "income verified"):
    request = intake_service_pb2.UpdateApplicationStatusRequest(
        name=application.name, status=A, reason=reason, etag=application.etag
    )
    return (await client.UpdateApplicationStatus(request)).application


async def trail(client, name: str) -> list[application_pb2.AuditEvent]:
    response = await client.ListApplicationEvents(intake_service_pb2.ListApplicationEventsRequest(name=name))
    return list(response.events)


async def test_below_the_threshold_one_approval_suffices(shared_intake, workflow):
    application = await workflow.application_in(UR, amount="29999.99")
    approved = await approve(shared_intake.client("analyst", subject="ana"), application)
    assert approved.status == A
    assert not approved.HasField("pending_approval")


async def test_at_the_threshold_one_approval_suffices(shared_intake, workflow):
    application = await workflow.application_in(UR, amount="30000.00")
    assert (await approve(shared_intake.client("analyst", subject="ana"), application)).status == A


@pytest.mark.parametrize("country", sorted(ABOVE_THRESHOLD))
async def test_above_the_threshold_the_first_approval_waits_for_a_second_analyst(
    shared_intake, workflow, country
):
    amount, income = ABOVE_THRESHOLD[country]
    application = await workflow.application_in(UR, country=country, amount=amount, income=income)
    first = await approve(shared_intake.client("analyst", subject="ana"), application, "payslips checked")
    assert first.status == UR
    assert first.pending_approval.requested_by == "ana"
    assert first.pending_approval.reason == "payslips checked"
    assert first.etag != application.etag

    second = await approve(shared_intake.client("analyst", subject="bea"), first, "agree")
    assert second.status == A
    assert not second.HasField("pending_approval")
    assert "approved by ana, confirmed by bea" in second.status_reason


async def test_the_same_analyst_cannot_confirm_their_own_approval(shared_intake, workflow):
    amount, income = ABOVE_THRESHOLD["ES"]
    application = await workflow.application_in(UR, amount=amount, income=income)
    ana = shared_intake.client("analyst", subject="ana")
    first = await approve(ana, application)
    details = await refusal(approve(ana, first))
    assert (details.code, details.reason) == (grpc.StatusCode.PERMISSION_DENIED, "SECOND_APPROVER_REQUIRED")
    still = await ana.GetApplication(intake_service_pb2.GetApplicationRequest(name=application.name))
    assert still.application.status == UR


async def test_a_senior_analyst_may_confirm(shared_intake, workflow):
    amount, income = ABOVE_THRESHOLD["BR"]
    application = await workflow.application_in(UR, country="BR", amount=amount, income=income)
    first = await approve(shared_intake.client("analyst", subject="ana"), application)
    second = await approve(shared_intake.client("senior_analyst", subject="chief"), first)
    assert second.status == A


async def test_both_steps_are_in_the_audit_trail(shared_intake, workflow):
    amount, income = ABOVE_THRESHOLD["IT"]
    application = await workflow.application_in(UR, country="IT", amount=amount, income=income)
    first = await approve(shared_intake.client("analyst", subject="ana"), application, "first look")
    await approve(shared_intake.client("analyst", subject="bea"), first, "second look")
    events = await trail(workflow.analyst, application.name)
    requested = [e for e in events if e.kind == S.AUDIT_EVENT_KIND_APPROVAL_REQUESTED]
    approved = [e for e in events if e.kind == S.AUDIT_EVENT_KIND_STATUS_CHANGED and e.to_status == A]
    assert [(e.actor, e.reason, e.from_status, e.to_status) for e in requested] == [
        ("ana", "first look", UR, UR)
    ]
    assert [(e.actor, e.from_status) for e in approved] == [("bea", UR)]
    assert "approved by ana, confirmed by bea" in approved[0].reason
    assert requested[0].sequence < approved[0].sequence


async def test_a_rejection_clears_a_pending_approval(shared_intake, workflow):
    amount, income = ABOVE_THRESHOLD["MX"]
    application = await workflow.application_in(UR, country="MX", amount=amount, income=income)
    first = await approve(shared_intake.client("analyst", subject="ana"), application)
    rejected = await shared_intake.client("analyst", subject="bea").UpdateApplicationStatus(
        intake_service_pb2.UpdateApplicationStatusRequest(
            name=application.name, status=RJ, reason="undeclared debts", etag=first.etag
        )
    )
    assert rejected.application.status == RJ
    assert not rejected.application.HasField("pending_approval")


async def test_a_stale_etag_cannot_record_a_second_pending_approval(shared_intake, workflow):
    amount, income = ABOVE_THRESHOLD["CO"]
    application = await workflow.application_in(UR, country="CO", amount=amount, income=income)
    await approve(shared_intake.client("analyst", subject="ana"), application)
    details = await refusal(approve(shared_intake.client("analyst", subject="bea"), application))
    assert details.reason == "ETAG_MISMATCH"
