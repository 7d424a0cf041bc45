"""The status workflow through the RPCs (SPEC §5): every move for every kind of caller, etags, scoring's
job-id idempotency and the bank's confirmations."""

import asyncio
import uuid
from collections.abc import Awaitable

import grpc
import pytest
from intake_workflow import Workflow, credit_report, decision, now

from globalcredit.intake.v1 import application_pb2, intake_service_pb2
from globalcredit.type.v1 import decision_pb2
from samples.applications import create_request
from svckit.errors import ErrorDetails, error_details

S = application_pb2
STATUSES = [
    S.APPLICATION_STATUS_PENDING,
    S.APPLICATION_STATUS_VALIDATING,
    S.APPLICATION_STATUS_APPROVED,
    S.APPLICATION_STATUS_REJECTED,
    S.APPLICATION_STATUS_UNDER_REVIEW,
    S.APPLICATION_STATUS_CANCELLED,
    S.APPLICATION_STATUS_COMPLETED,
]
P, V, A, RJ, UR, C, CO = STATUSES

# SPEC §5, written out here independently of the code under test.
MOVES_BY_ROLE = {
    "service": {(P, V), (V, A), (V, RJ), (V, UR)},
    "analyst": {(UR, A), (UR, RJ), (P, C), (UR, C), (A, C)},
}
BANK_MOVES = {(A, CO), (A, C), (V, RJ), (UR, RJ)}
WORKFLOW = MOVES_BY_ROLE["service"] | MOVES_BY_ROLE["analyst"] | BANK_MOVES


def name_of(status: int) -> str:
    return S.ApplicationStatus.Name(status).removeprefix("APPLICATION_STATUS_")


async def refusal(call: Awaitable[object]) -> ErrorDetails:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return error_details(caught.value)


@pytest.fixture
async def workflow(shared_intake, rng) -> Workflow:
    return Workflow(shared_intake.client("analyst"), shared_intake.client("service", subject="scoring"), rng)


@pytest.mark.parametrize("role", ["service", "analyst"])
@pytest.mark.parametrize("target", STATUSES, ids=name_of)
@pytest.mark.parametrize("current", STATUSES, ids=name_of)
async def test_update_status_allows_exactly_the_workflow_moves_of_the_callers_role(
    shared_intake, workflow, current, target, role
):
    application = await workflow.application_in(current)
    assert application.status == current
    client = shared_intake.client(role)
    call = client.UpdateApplicationStatus(
        intake_service_pb2.UpdateApplicationStatusRequest(
            name=application.name, status=target, reason="decided on review", etag=application.etag
        )
    )
    if (current, target) in MOVES_BY_ROLE[role]:
        moved = (await call).application
        assert moved.status == target
        assert moved.status_reason == "decided on review"
        assert moved.etag != application.etag
    elif (current, target) in WORKFLOW:
        details = await refusal(call)
        assert (details.code, details.reason) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "TRANSITION_NOT_PERMITTED",
        )
    else:
        details = await refusal(call)
        assert (details.code, details.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "INVALID_STATUS_TRANSITION",
        )
        assert details.metadata["from"] == name_of(current)
        assert details.metadata["to"] == name_of(target)


async def test_a_stale_etag_is_refused_as_aborted(shared_intake, workflow):
    application = await workflow.application_in(UR)
    await workflow.analyst.UpdateApplicationStatus(
        intake_service_pb2.UpdateApplicationStatusRequest(
            name=application.name, status=A, reason="income verified", etag=application.etag
        )
    )
    details = await refusal(
        workflow.analyst.CancelApplication(
            intake_service_pb2.CancelApplicationRequest(
                name=application.name, reason="late", etag=application.etag
            )
        )
    )
    assert (details.code, details.reason) == (grpc.StatusCode.ABORTED, "ETAG_MISMATCH")


async def test_concurrent_changes_from_one_etag_apply_exactly_once(shared_intake, workflow):
    application = await workflow.application_in(UR)
    analysts = [shared_intake.client("analyst") for _ in range(8)]
    results = await asyncio.gather(
        *(
            analyst.UpdateApplicationStatus(
                intake_service_pb2.UpdateApplicationStatusRequest(
                    name=application.name, status=target, reason="race", etag=application.etag
                )
            )
            for analyst, target in zip(analysts, [A, RJ] * 4, strict=True)
        ),
        return_exceptions=True,
    )
    succeeded = [r for r in results if isinstance(r, intake_service_pb2.UpdateApplicationStatusResponse)]
    refused = [error_details(r).reason for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(succeeded) == 1
    assert set(refused) <= {"ETAG_MISMATCH", "INVALID_STATUS_TRANSITION"}
    assert len(refused) == 7


async def test_a_status_change_needs_a_reason_an_etag_and_a_status(shared_intake, workflow):
    application = await workflow.application_in(UR)
    details = await refusal(
        workflow.analyst.UpdateApplicationStatus(
            intake_service_pb2.UpdateApplicationStatusRequest(name=application.name, reason="   ")
        )
    )
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field: v.reason for v in details.violations} == {
        "status": "STATUS_REQUIRED",
        "reason": "REASON_REQUIRED",
        "etag": "ETAG_REQUIRED",
    }


async def test_a_malformed_name_is_invalid_and_an_unknown_one_not_found(shared_intake):
    client = shared_intake.client()
    malformed = await refusal(client.GetApplication(intake_service_pb2.GetApplicationRequest(name="apps/1")))
    assert (malformed.code, malformed.violations[0].field) == (grpc.StatusCode.INVALID_ARGUMENT, "name")
    missing = await refusal(
        client.GetApplication(intake_service_pb2.GetApplicationRequest(name=f"applications/{uuid.uuid4()}"))
    )
    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "APPLICATION_NOT_FOUND")


async def test_a_partner_may_cancel_its_own_application(shared_intake):
    partner = shared_intake.client("partner", partner_id="broker-1")
    created = (await partner.CreateApplication(create_request("BR"))).application
    cancelled = await partner.CancelApplication(
        intake_service_pb2.CancelApplicationRequest(
            name=created.name, reason="customer changed mind", etag=created.etag
        )
    )
    assert cancelled.application.status == C


async def test_a_partner_cannot_see_or_cancel_another_partners_application(shared_intake, workflow):
    application = await workflow.application_in(P)
    stranger = shared_intake.client("partner", partner_id="broker-2")
    get = await refusal(
        stranger.GetApplication(intake_service_pb2.GetApplicationRequest(name=application.name))
    )
    cancel = await refusal(
        stranger.CancelApplication(
            intake_service_pb2.CancelApplicationRequest(
                name=application.name, reason="x", etag=application.etag
            )
        )
    )
    assert get.reason == cancel.reason == "APPLICATION_NOT_FOUND"


async def test_a_partner_may_not_decide_a_review(shared_intake, workflow):
    application = await workflow.application_in(UR)
    details = await refusal(
        shared_intake.client("partner", partner_id="broker-1").UpdateApplicationStatus(
            intake_service_pb2.UpdateApplicationStatusRequest(
                name=application.name, status=A, reason="self-approval", etag=application.etag
            )
        )
    )
    assert (details.code, details.reason) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")


async def test_start_validation_is_idempotent_by_job_and_returns_the_document_in_clear(
    shared_intake, workflow
):
    application = await workflow.application_in(P)
    job_id = str(uuid.uuid4())
    first = await workflow.start(application.name, job_id)
    second = await workflow.start(application.name, job_id)
    assert first.status == second.status == V
    assert first.etag == second.etag
    assert "*" not in first.applicant.identity_document


async def test_start_validation_by_another_job_is_refused(shared_intake, workflow):
    application = await workflow.application_in(V)
    details = await refusal(workflow.start(application.name, str(uuid.uuid4())))
    assert (details.code, details.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "INVALID_STATUS_TRANSITION",
    )


async def test_a_cancelled_application_cannot_be_taken_by_scoring(shared_intake, workflow):
    application = await workflow.application_in(C)
    details = await refusal(workflow.start(application.name, str(uuid.uuid4())))
    assert details.reason == "INVALID_STATUS_TRANSITION"


async def test_record_decision_is_idempotent_by_job(shared_intake, workflow):
    application = await workflow.create()
    job_id = str(uuid.uuid4())
    await workflow.start(application.name, job_id)
    first = await workflow.decide(application.name, job_id, decision_pb2.DECISION_OUTCOME_REVIEW)
    again = await workflow.decide(application.name, job_id, decision_pb2.DECISION_OUTCOME_APPROVE)
    assert first.status == again.status == UR
    assert again.decision.outcome == decision_pb2.DECISION_OUTCOME_REVIEW
    assert again.etag == first.etag


async def test_concurrent_deliveries_of_one_decision_record_it_once(shared_intake, workflow):
    application = await workflow.create()
    job_id = str(uuid.uuid4())
    await workflow.start(application.name, job_id)
    results = await asyncio.gather(
        *(workflow.decide(application.name, job_id, decision_pb2.DECISION_OUTCOME_APPROVE) for _ in range(6))
    )
    assert {result.etag for result in results} == {results[0].etag}
    trail = await workflow.analyst.ListApplicationEvents(
        intake_service_pb2.ListApplicationEventsRequest(name=application.name)
    )
    assert [event.to_status for event in trail.events if event.kind == S.AUDIT_EVENT_KIND_STATUS_CHANGED] == [
        V,
        A,
    ]


async def test_the_decision_and_report_are_stored_and_returned(shared_intake, workflow):
    application = await workflow.application_in(UR)
    got = (
        await workflow.analyst.GetApplication(intake_service_pb2.GetApplicationRequest(name=application.name))
    ).application
    assert got.decision.risk_score == "42.00"
    assert got.decision.rule_set_version == "ES-2026.1"
    assert got.decision.reasons[0].code == "ES_AMOUNT_REVIEW"
    assert got.decision.reasons[0].localized_messages["es"].startswith("El importe")
    assert got.credit_report.provider == "ASNEF"
    assert got.credit_report.credit_score == 712
    assert got.credit_report.total_debt.amount == "8200.00"
    assert got.status_reason == "REVIEW by rule set ES-2026.1, risk score 42.00"


async def test_a_decision_for_another_job_is_refused(shared_intake, workflow):
    application = await workflow.application_in(V)
    details = await refusal(
        workflow.decide(application.name, "another-job", decision_pb2.DECISION_OUTCOME_APPROVE)
    )
    assert details.reason == "INVALID_STATUS_TRANSITION"


async def test_a_malformed_decision_is_refused_field_by_field(shared_intake, workflow):
    application = await workflow.application_in(V)
    bad = decision(decision_pb2.DECISION_OUTCOME_UNSPECIFIED, score="100.5")
    report = credit_report("USD")
    report.total_debt.amount = "12,00"
    details = await refusal(
        workflow.scoring.RecordDecision(
            intake_service_pb2.RecordDecisionRequest(
                name=application.name, job_id="j", decision=bad, credit_report=report
            )
        )
    )
    assert {v.field for v in details.violations} == {
        "decision.outcome",
        "decision.risk_score",
        "credit_report.total_debt.amount",
    }


@pytest.mark.parametrize(
    ("current", "verified", "disbursed", "expected"),
    [
        (A, True, True, CO),
        (A, False, False, C),
        (A, True, False, A),
        (UR, False, False, RJ),
        (V, False, False, RJ),
        (UR, True, True, UR),
        (RJ, True, True, RJ),
    ],
    ids=[
        "approved-completes",
        "approved-unverified-cancels",
        "approved-not-disbursed-waits",
        "review-unverified-rejects",
        "validating-unverified-rejects",
        "review-verified-waits",
        "final-stays",
    ],
)
async def test_a_bank_confirmation_moves_the_application_as_the_workflow_says(
    shared_intake, workflow, current, verified, disbursed, expected
):
    application = await workflow.application_in(current)
    confirmed = await workflow.confirm(application.name, verified=verified, disbursed=disbursed)
    assert confirmed.status == expected
    assert len(confirmed.bank_confirmations) == 1
    assert confirmed.bank_confirmations[0].identity_verified is verified


async def test_a_redelivered_bank_confirmation_changes_nothing(shared_intake, workflow):
    application = await workflow.application_in(A)
    delivered_at = now()
    first = await workflow.confirm(
        application.name, verified=True, disbursed=True, webhook_id="wh_redelivered", occur_time=delivered_at
    )
    again = await workflow.confirm(
        application.name, verified=True, disbursed=True, webhook_id="wh_redelivered", occur_time=delivered_at
    )
    assert again.etag == first.etag
    assert len(again.bank_confirmations) == 1


async def test_a_webhook_id_reused_for_another_payload_is_refused(shared_intake, workflow):
    application = await workflow.application_in(A)
    await workflow.confirm(application.name, verified=True, disbursed=False, webhook_id="wh_reused")
    details = await refusal(
        workflow.confirm(application.name, verified=False, disbursed=False, webhook_id="wh_reused")
    )
    assert (details.code, details.reason) == (grpc.StatusCode.ALREADY_EXISTS, "WEBHOOK_ID_REUSED")


async def test_only_the_service_role_may_record_bank_confirmations_and_decisions(shared_intake, workflow):
    application = await workflow.application_in(V)
    analyst_as_scoring = Workflow(workflow.analyst, workflow.analyst)
    for call in (
        analyst_as_scoring.confirm(application.name, verified=False, disbursed=False),
        analyst_as_scoring.decide(application.name, "job", decision_pb2.DECISION_OUTCOME_APPROVE),
        analyst_as_scoring.start(application.name, "job"),
    ):
        details = await refusal(call)
        assert (details.code, details.reason) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")


async def test_a_failed_scoring_job_puts_the_application_under_review(shared_intake, workflow):
    application = await workflow.create()
    job_id = str(uuid.uuid4())
    await workflow.start(application.name, job_id)
    failed = await workflow.fail(application.name, job_id, "MAX_DELIVERIES_EXCEEDED")
    assert failed.status == UR
    assert failed.status_reason == "SCORING_FAILED: MAX_DELIVERIES_EXCEEDED"
    again = await workflow.fail(application.name, job_id, "MAX_DELIVERIES_EXCEEDED")
    assert again.etag == failed.etag


async def test_a_scoring_failure_needs_the_application_validating_for_that_job(shared_intake, workflow):
    pending = await workflow.application_in(P)
    validating = await workflow.application_in(V)
    for name, job_id in ((pending.name, "job-1"), (validating.name, "another-job")):
        details = await refusal(workflow.fail(name, job_id))
        assert (details.code, details.reason) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "INVALID_STATUS_TRANSITION",
        )


async def test_a_malformed_failure_code_is_refused(shared_intake, workflow):
    application = await workflow.application_in(V)
    details = await refusal(workflow.fail(application.name, "job", "bureau down; name Ana"))
    assert [v.field for v in details.violations] == ["failure_code"]


async def test_replaying_the_failed_job_resumes_and_decides_the_application(shared_intake, workflow):
    application = await workflow.create()
    job_id = str(uuid.uuid4())
    await workflow.start(application.name, job_id)
    await workflow.fail(application.name, job_id)
    resumed = await workflow.start(application.name, job_id)
    assert resumed.status == V
    assert resumed.status_reason == f"scoring job {job_id} resumed"
    decided = await workflow.decide(application.name, job_id, decision_pb2.DECISION_OUTCOME_APPROVE)
    assert decided.status == A
    trail = await workflow.analyst.ListApplicationEvents(
        intake_service_pb2.ListApplicationEventsRequest(name=application.name)
    )
    moves = [
        (e.from_status, e.to_status) for e in trail.events if e.kind == S.AUDIT_EVENT_KIND_STATUS_CHANGED
    ]
    assert moves == [(P, V), (V, UR), (UR, V), (V, A)]


async def test_only_the_failed_job_may_resume_a_review(shared_intake, workflow):
    application = await workflow.create()
    job_id = str(uuid.uuid4())
    await workflow.start(application.name, job_id)
    await workflow.fail(application.name, job_id)
    details = await refusal(workflow.start(application.name, str(uuid.uuid4())))
    assert details.reason == "INVALID_STATUS_TRANSITION"


async def test_a_review_decided_by_an_analyst_can_no_longer_be_resumed(shared_intake, workflow):
    application = await workflow.create()
    job_id = str(uuid.uuid4())
    await workflow.start(application.name, job_id)
    failed = await workflow.fail(application.name, job_id)
    await workflow.analyst.UpdateApplicationStatus(
        intake_service_pb2.UpdateApplicationStatusRequest(
            name=application.name, status=RJ, reason="no income proof", etag=failed.etag
        )
    )
    details = await refusal(workflow.start(application.name, job_id))
    assert details.reason == "INVALID_STATUS_TRANSITION"
