"""A bureau outage seen end to end: the country's applications go to review on fallback reports, its
circuit opens, and once the bureau is back the circuit closes on the next application, decided normally."""

from typing import Any

import pytest
from scoring_harness import Stack

from bureau_gateway.sandbox import SANDBOX_IDENTITIES, Scenario
from globalcredit.bureau.v1 import bureau_service_pb2
from globalcredit.intake.v1 import application_pb2
from globalcredit.type.v1 import decision_pb2
from scoring.app import ScoringApp
from svckit.testing.polling import eventually

B = bureau_service_pb2
COUNTRY = "PT"
# Outages fail each of a call's 3 attempts; the circuit opens at 5 failures in a row: two calls do it.
CALLS_TO_OPEN = 2


@pytest.fixture(scope="module")
def bureau_overrides() -> dict[str, Any]:
    # Long enough that the circuit is still open when the test looks, short enough to wait out.
    return {"circuit_cool_down_seconds": 2.0}


async def test_an_outage_opens_the_circuit_and_the_next_success_after_the_cool_down_closes_it(
    stack: Stack, scoring: ScoringApp
) -> None:
    assert (await stack.circuit(COUNTRY)).state == B.CIRCUIT_STATE_CLOSED
    await stack.inject_fault(COUNTRY, B.FAULT_KIND_OUTAGE)

    # Two calls fail until the circuit opens; a third is answered from the open circuit without a call.
    during_outage = []
    for calls in range(1, CALLS_TO_OPEN + 2):
        created = await stack.create(COUNTRY)
        during_outage.append((await stack.wait_decided([created.name]))[created.name])
        if calls == CALLS_TO_OPEN:
            circuit = await stack.circuit(COUNTRY)
            assert circuit.state == B.CIRCUIT_STATE_OPEN
            assert circuit.consecutive_failures >= 5

    for application in during_outage:
        assert application.status == application_pb2.APPLICATION_STATUS_UNDER_REVIEW
        assert application.decision.outcome == decision_pb2.DECISION_OUTCOME_REVIEW
        assert "BUREAU_FALLBACK" in [reason.code for reason in application.decision.reasons]
        assert application.credit_report.fallback
        assert not application.credit_report.HasField("credit_score")
    # Other countries' bureaus are not concerned.
    assert (await stack.circuit("ES")).state == B.CIRCUIT_STATE_CLOSED

    await stack.inject_fault(COUNTRY, B.FAULT_KIND_NONE)
    await eventually(
        lambda: _state_is(stack, B.CIRCUIT_STATE_HALF_OPEN), within=5.0, what="the circuit half-open"
    )

    approve = next(
        identity.document
        for identity in SANDBOX_IDENTITIES
        if identity.country.value == COUNTRY and identity.scenario is Scenario.APPROVE
    )
    recovered = await stack.create(COUNTRY, document=approve)
    decided = (await stack.wait_decided([recovered.name]))[recovered.name]

    assert decided.status == application_pb2.APPLICATION_STATUS_APPROVED
    assert decided.decision.outcome == decision_pb2.DECISION_OUTCOME_APPROVE
    assert not decided.credit_report.fallback
    assert decided.credit_report.HasField("credit_score")
    circuit = await stack.circuit(COUNTRY)
    assert circuit.state == B.CIRCUIT_STATE_CLOSED
    assert circuit.consecutive_failures == 0


async def _state_is(stack: Stack, state: int) -> bool:
    return (await stack.circuit(COUNTRY)).state == state
