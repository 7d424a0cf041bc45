"""End to end through intake, scoring's worker and bureau-gateway: every sandbox identity of every country
reaches its documented outcome, with the reasons and the credit report intake stores."""

from typing import Any

import pytest
from scoring_harness import Stack

from bureau_gateway.bureaus import PROFILES
from bureau_gateway.sandbox import SANDBOX_IDENTITIES, SandboxIdentity, Scenario
from globalcredit.intake.v1 import application_pb2
from globalcredit.type.v1 import decision_pb2
from scoring.app import ScoringApp
from scoring.facts import Country
from scoring.rulesets import rule_set

S = application_pb2
D = decision_pb2

EXPECTED_STATUS = {
    Scenario.APPROVE: S.APPLICATION_STATUS_APPROVED,
    Scenario.REVIEW: S.APPLICATION_STATUS_UNDER_REVIEW,
    Scenario.REJECT: S.APPLICATION_STATUS_REJECTED,
    Scenario.TIMEOUT: S.APPLICATION_STATUS_UNDER_REVIEW,
    Scenario.OUTAGE: S.APPLICATION_STATUS_UNDER_REVIEW,
}
EXPECTED_OUTCOME = {
    Scenario.APPROVE: D.DECISION_OUTCOME_APPROVE,
    Scenario.REVIEW: D.DECISION_OUTCOME_REVIEW,
    Scenario.REJECT: D.DECISION_OUTCOME_REJECT,
    Scenario.TIMEOUT: D.DECISION_OUTCOME_REVIEW,
    Scenario.OUTAGE: D.DECISION_OUTCOME_REVIEW,
}


@pytest.fixture(scope="module")
def bureau_overrides() -> dict[str, Any]:
    # Ten timeout and outage identities fail 30 attempts: with the default threshold they would open
    # their countries' circuits and turn the other identities' reports into fallbacks too.
    return {"circuit_failure_threshold": 1000}


def _reasons(decision: decision_pb2.Decision) -> dict[str, decision_pb2.DecisionReason]:
    return {reason.code: reason for reason in decision.reasons}


def _check_report(identity: SandboxIdentity, application: application_pb2.Application) -> None:
    report = application.credit_report
    profile = PROFILES[identity.country]
    assert report.provider == profile.provider
    assert report.total_debt.currency_code == profile.currency
    assert report.monthly_obligations.currency_code == profile.currency
    if identity.credit is None:
        assert report.fallback
        assert not report.HasField("credit_score")
        assert report.report_id == ""
        assert report.total_debt.amount in ("0", "0.00")
        return
    credit = identity.credit
    assert not report.fallback
    assert report.report_id
    if credit.credit_score is None:
        assert not report.HasField("credit_score")
    else:
        assert report.credit_score == credit.credit_score
    assert report.total_debt.amount == f"{credit.total_debt:.2f}"
    assert report.monthly_obligations.amount == f"{credit.monthly_obligations:.2f}"
    assert report.has_defaults is False
    assert report.account_age_months == credit.account_age_months


def _check_reasons(identity: SandboxIdentity, decision: decision_pb2.Decision) -> None:
    reasons = _reasons(decision)
    country = identity.country.value
    # Bonuses may come along (MX_PTI_BONUS looks only at the application); nothing else may.
    others = {code: reason.effect for code, reason in reasons.items() if reason.effect != D.RULE_EFFECT_BONUS}
    points = sum(reason.points for reason in decision.reasons)
    assert decision.risk_score == f"{min(max(points, 0), 100)}.00"
    match identity.scenario:
        case Scenario.APPROVE:
            assert others == {}
        case Scenario.REVIEW:
            assert others == {"BUREAU_NO_SCORE": D.RULE_EFFECT_SOFT}
            assert reasons["BUREAU_NO_SCORE"].points == 10
        case Scenario.REJECT:
            assert identity.credit is not None
            assert identity.credit.credit_score is not None
            assert others == {f"{country}_SCORE": D.RULE_EFFECT_HARD}
            assert reasons[f"{country}_SCORE"].observed == str(identity.credit.credit_score)
            assert decision.reasons[0].code == f"{country}_SCORE"
        case Scenario.TIMEOUT | Scenario.OUTAGE:
            # A fallback report tells the rules nothing but that it is a fallback.
            assert others == {"BUREAU_FALLBACK": D.RULE_EFFECT_SOFT}
            assert reasons["BUREAU_FALLBACK"].observed == "true"


async def test_every_sandbox_identity_reaches_its_documented_outcome(
    stack: Stack, scoring: ScoringApp
) -> None:
    created = [
        (identity, await stack.create(identity.country.value, document=identity.document))
        for identity in SANDBOX_IDENTITIES
    ]
    names = [application.name for _, application in created]

    decided = await stack.wait_decided(names, within=30.0)

    assert {identity.country for identity, _ in created} == set(PROFILES)
    assert {identity.scenario for identity, _ in created} == set(Scenario)
    for identity, application in created:
        context = f"{identity.country.value} {identity.scenario.value} {identity.document}"
        found = decided[application.name]
        assert found.status == EXPECTED_STATUS[identity.scenario], context
        decision = found.decision
        assert decision.outcome == EXPECTED_OUTCOME[identity.scenario], context
        assert decision.rule_set_version == rule_set(Country(identity.country.value)).version, context
        assert decision.HasField("decide_time"), context
        _check_reasons(identity, decision)
        _check_report(identity, found)
    rows = await stack.decision_rows(names)
    assert all(len(job_ids) == 1 for job_ids in rows.values()), rows
