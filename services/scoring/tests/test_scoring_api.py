"""ScoringService through a real server: what-if evaluation agrees with the pipeline's decisions, the rule
sets read as SPEC §6 writes them, and each RPC is open only to its roles."""

from typing import Any

import grpc
import pytest
from scoring_harness import Stack, country_of

from bureau_gateway.sandbox import SANDBOX_IDENTITIES, Scenario
from globalcredit.intake.v1 import application_pb2
from globalcredit.scoring.v1 import scoring_service_pb2
from globalcredit.type.v1 import credit_report_pb2, decision_pb2, money_pb2
from scoring.app import ScoringApp
from svckit import paging
from svckit.errors import ErrorDetails, error_details

D = decision_pb2
HARD, SOFT, BONUS = D.RULE_EFFECT_HARD, D.RULE_EFFECT_SOFT, D.RULE_EFFECT_BONUS
Evaluate = scoring_service_pb2.EvaluateApplicationRequest

# SPEC §6, in its order: code, points, effect, threshold ("" for a flag).
BUREAU_RULES = [("BUREAU_FALLBACK", 0, SOFT, ""), ("BUREAU_NO_SCORE", 10, SOFT, "")]
SPEC_RULES: dict[str, list[tuple[str, int, int, str]]] = {
    "ES": [
        ("ES_AMOUNT_REVIEW", 15, SOFT, "20000"),
        ("ES_DTI", 30, HARD, "40"),
        ("ES_SCORE", 25, HARD, "600"),
        ("ES_DEFAULTS", 40, HARD, ""),
        ("ES_PTI", 20, SOFT, "35"),
        ("ES_SCORE_BONUS", -10, BONUS, "750"),
    ],
    "PT": [
        ("PT_LTI", 25, HARD, "4"),
        ("PT_DTI", 30, HARD, "40"),
        ("PT_SCORE", 25, HARD, "600"),
        ("PT_DEFAULTS", 35, HARD, ""),
        ("PT_PTI", 20, SOFT, "35"),
        ("PT_SCORE_BONUS", -10, BONUS, "750"),
    ],
    "IT": [
        ("IT_DTI", 30, HARD, "35"),
        ("IT_SCORE", 25, HARD, "600"),
        ("IT_DEFAULTS", 35, HARD, ""),
        ("IT_STABILITY", 15, SOFT, "2"),
        ("IT_PTI", 20, SOFT, "30"),
        ("IT_SCORE_BONUS", -10, BONUS, "750"),
    ],
    "MX": [
        ("MX_LTI", 35, HARD, "3"),
        ("MX_PTI", 25, HARD, "30"),
        ("MX_SCORE", 30, HARD, "550"),
        ("MX_TDTI", 30, SOFT, "45"),
        ("MX_DEFAULTS", 35, SOFT, ""),
        ("MX_PTI_BONUS", -5, BONUS, "15"),
        ("MX_SCORE_BONUS", -10, BONUS, "700"),
    ],
    "CO": [
        ("CO_TDTI", 25, HARD, "40"),
        ("CO_SCORE", 30, HARD, "600"),
        ("CO_DEFAULTS", 35, SOFT, ""),
        ("CO_TOTAL_DEBT", 15, SOFT, "6"),
        ("CO_SCORE_BONUS", -15, BONUS, "750"),
        ("CO_TENURE_BONUS", -10, BONUS, "36"),
    ],
    "BR": [
        ("BR_LTI", 25, HARD, "5"),
        ("BR_TDTI", 20, HARD, "35"),
        ("BR_SCORE", 25, HARD, "550"),
        ("BR_DEFAULTS", 30, HARD, ""),
        ("BR_SCORE_BONUS", -10, BONUS, "700"),
        ("BR_TENURE_BONUS", -5, BONUS, "24"),
    ],
}

# One application per outcome, across the countries, and one decided on a fallback report.
CASES = [
    ("ES", Scenario.APPROVE),
    ("PT", Scenario.REVIEW),
    ("IT", Scenario.REJECT),
    ("MX", Scenario.APPROVE),
    ("CO", Scenario.REJECT),
    ("BR", Scenario.REVIEW),
    ("ES", Scenario.OUTAGE),
]


@pytest.fixture(scope="module")
def bureau_overrides() -> dict[str, Any]:
    return {"circuit_failure_threshold": 1000}


def _document(country: str, scenario: Scenario) -> str:
    return next(
        identity.document
        for identity in SANDBOX_IDENTITIES
        if identity.country.value == country and identity.scenario is scenario
    )


def _comparable(decision: decision_pb2.Decision) -> tuple[object, ...]:
    """A decision without the moment it was made."""
    return (
        decision.outcome,
        decision.risk_score,
        decision.risk_level,
        decision.rule_set_version,
        [
            (r.code, r.effect, r.points, r.observed, r.threshold, r.message, dict(r.localized_messages))
            for r in decision.reasons
        ],
    )


def _report_contents(report: credit_report_pb2.CreditReport) -> tuple[object, ...]:
    """A report without what differs between two enquiries (their id and time)."""
    return (
        report.provider,
        report.credit_score if report.HasField("credit_score") else None,
        (report.total_debt.currency_code, report.total_debt.amount),
        (report.monthly_obligations.currency_code, report.monthly_obligations.amount),
        report.has_defaults,
        report.account_age_months,
        report.fallback,
    )


async def _refused(call: Any) -> ErrorDetails:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return error_details(refused.value)


@pytest.fixture(scope="module")
async def decided(stack: Stack, scoring: ScoringApp) -> list[application_pb2.Application]:
    """The CASES' applications, decided by the pipeline."""
    created = [
        await stack.create(country, document=_document(country, scenario)) for country, scenario in CASES
    ]
    found = await stack.wait_decided([application.name for application in created])
    return [found[application.name] for application in created]


async def test_evaluate_gives_the_pipelines_decision_on_the_same_figures_and_report(
    stack: Stack, scoring: ScoringApp, decided: list[application_pb2.Application]
) -> None:
    client = stack.scoring_client(scoring, "analyst")
    outcomes = set()
    for application in decided:
        response = await client.EvaluateApplication(
            Evaluate(
                country=application.country,
                requested_amount=application.requested_amount,
                monthly_income=application.monthly_income,
                term_months=application.term_months,
                credit_report=application.credit_report,
            )
        )
        assert _comparable(response.decision) == _comparable(application.decision), application.name
        assert response.credit_report == application.credit_report
        outcomes.add(application.decision.outcome)
    assert outcomes == {D.DECISION_OUTCOME_APPROVE, D.DECISION_OUTCOME_REVIEW, D.DECISION_OUTCOME_REJECT}
    assert any(application.credit_report.fallback for application in decided)


async def test_evaluate_without_a_report_asks_the_bureau_and_gives_the_same_decision(
    stack: Stack, scoring: ScoringApp, decided: list[application_pb2.Application]
) -> None:
    client = stack.scoring_client(scoring, "analyst")
    for (country, scenario), application in zip(CASES, decided, strict=True):
        if scenario in (Scenario.TIMEOUT, Scenario.OUTAGE):
            continue
        response = await client.EvaluateApplication(
            Evaluate(
                country=application.country,
                requested_amount=application.requested_amount,
                monthly_income=application.monthly_income,
                term_months=application.term_months,
                identity_document=_document(country, scenario),
                consent_reference="consent-what-if-1",
            )
        )
        assert _comparable(response.decision) == _comparable(application.decision), application.name
        assert _report_contents(response.credit_report) == _report_contents(application.credit_report)
        assert response.credit_report.report_id  # a new enquiry of its own


async def test_evaluate_without_a_report_or_a_consent_is_refused_consent_required(
    stack: Stack, scoring: ScoringApp
) -> None:
    client = stack.scoring_client(scoring, "analyst")
    refused = await _refused(
        client.EvaluateApplication(
            Evaluate(
                country=country_of("ES"),
                requested_amount=money_pb2.Money(currency_code="EUR", amount="12000.00"),
                monthly_income=money_pb2.Money(currency_code="EUR", amount="3200.00"),
                identity_document=_document("ES", Scenario.APPROVE),
                consent_reference="  ",
            )
        )
    )
    assert (refused.code, refused.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "CONSENT_REQUIRED")


async def test_evaluate_with_bad_money_or_a_bad_report_names_every_bad_field(
    stack: Stack, scoring: ScoringApp, decided: list[application_pb2.Application]
) -> None:
    client = stack.scoring_client(scoring, "analyst")
    report = credit_report_pb2.CreditReport()
    report.CopyFrom(decided[0].credit_report)  # ES, in EUR
    report.total_debt.currency_code = "USD"
    report.credit_score = -1
    refused = await _refused(
        client.EvaluateApplication(
            Evaluate(
                country=country_of("ES"),
                requested_amount=money_pb2.Money(currency_code="EUR", amount="12000.001"),
                monthly_income=money_pb2.Money(currency_code="MXN", amount="3200.00"),
                credit_report=report,
            )
        )
    )
    assert (refused.code, refused.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_EVALUATION")
    assert {(v.field, v.reason) for v in refused.violations} == {
        ("requested_amount.amount", "MONEY_MALFORMED"),
        ("monthly_income.currency_code", "CURRENCY_MISMATCH"),
        ("credit_report.total_debt.currency_code", "CURRENCY_MISMATCH"),
        ("credit_report.credit_score", "CREDIT_SCORE_INVALID"),
    }


async def test_evaluate_passes_on_the_bureaus_complaint_about_the_document(
    stack: Stack, scoring: ScoringApp
) -> None:
    client = stack.scoring_client(scoring, "analyst")
    refused = await _refused(
        client.EvaluateApplication(
            Evaluate(
                country=country_of("ES"),
                requested_amount=money_pb2.Money(currency_code="EUR", amount="12000.00"),
                monthly_income=money_pb2.Money(currency_code="EUR", amount="3200.00"),
                identity_document="1" * 100,
                consent_reference="consent-what-if-2",
            )
        )
    )
    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [(v.field, v.reason) for v in refused.violations] == [
        ("identity_document", "IDENTITY_DOCUMENT_TOO_LONG")
    ]


@pytest.mark.parametrize("country", list(SPEC_RULES))
async def test_get_rule_set_lists_the_countrys_rules_as_the_spec_does(
    stack: Stack, scoring: ScoringApp, country: str
) -> None:
    client = stack.scoring_client(scoring, "analyst")

    current = (
        await client.GetRuleSet(scoring_service_pb2.GetRuleSetRequest(country=country_of(country)))
    ).rule_set

    assert current.country == country_of(country)
    assert current.version.startswith(f"{country}-")
    assert current.HasField("effective_time")
    rules = [(rule.code, rule.points, rule.effect, rule.threshold) for rule in current.rules]
    assert rules == SPEC_RULES[country] + BUREAU_RULES
    assert all(rule.description for rule in current.rules)
    named = await client.GetRuleSet(
        scoring_service_pb2.GetRuleSetRequest(country=country_of(country), version=current.version)
    )
    assert named.rule_set == current


async def test_get_rule_set_of_an_unknown_version_is_not_found(stack: Stack, scoring: ScoringApp) -> None:
    client = stack.scoring_client(scoring, "analyst")

    refused = await _refused(
        client.GetRuleSet(
            scoring_service_pb2.GetRuleSetRequest(country=country_of("ES"), version="ES-1999.1")
        )
    )

    assert (refused.code, refused.reason) == (grpc.StatusCode.NOT_FOUND, "RULE_SET_NOT_FOUND")
    assert refused.metadata == {"version": "ES-1999.1"}


async def test_dead_letters_are_for_admins_only(stack: Stack, scoring: ScoringApp) -> None:
    analyst = stack.scoring_client(scoring, "analyst")
    senior = stack.scoring_client(scoring, "senior_analyst")
    admin = stack.scoring_client(scoring, "admin")

    for client in (analyst, senior):
        listed = await _refused(client.ListDeadLetters(scoring_service_pb2.ListDeadLettersRequest()))
        replayed = await _refused(
            client.ReplayDeadLetter(scoring_service_pb2.ReplayDeadLetterRequest(id="1"))
        )
        assert listed.code == replayed.code == grpc.StatusCode.PERMISSION_DENIED
        assert listed.reason == replayed.reason == "ROLE_NOT_ALLOWED"

    await admin.ListDeadLetters(scoring_service_pb2.ListDeadLettersRequest())
    missing = await _refused(admin.ReplayDeadLetter(scoring_service_pb2.ReplayDeadLetterRequest(id="999999")))
    assert (missing.code, missing.reason) == (grpc.StatusCode.NOT_FOUND, "DEAD_LETTER_NOT_FOUND")


@pytest.mark.parametrize("dead_letter_id", ["", "0", "-1", "abc", "\u00b2", "9" * 25])
async def test_replaying_a_malformed_dead_letter_id_is_invalid(
    stack: Stack, scoring: ScoringApp, dead_letter_id: str
) -> None:
    admin = stack.scoring_client(scoring, "admin")

    refused = await _refused(
        admin.ReplayDeadLetter(scoring_service_pb2.ReplayDeadLetterRequest(id=dead_letter_id))
    )

    assert (refused.code, refused.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")
    assert [(v.field, v.reason) for v in refused.violations] == [("id", "INVALID_ID")]


@pytest.mark.parametrize("position", ["-5", "x", str(2**64)])
async def test_listing_dead_letters_from_a_forged_page_token_is_invalid(
    stack: Stack, scoring: ScoringApp, position: str
) -> None:
    admin = stack.scoring_client(scoring, "admin")
    forged = paging.encode(paging.PageToken(position, paging.scope_of("dead-letters")))

    refused = await _refused(
        admin.ListDeadLetters(scoring_service_pb2.ListDeadLettersRequest(page_token=forged))
    )

    assert refused.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [(v.field, v.reason) for v in refused.violations] == [("page_token", "INVALID_PAGE_TOKEN")]


async def test_a_partner_may_not_evaluate_applications(stack: Stack, scoring: ScoringApp) -> None:
    partner = stack.scoring_client(scoring, "partner", partner_id="partner-7")

    refused = await _refused(
        partner.EvaluateApplication(
            Evaluate(
                country=country_of("ES"),
                requested_amount=money_pb2.Money(currency_code="EUR", amount="12000.00"),
                monthly_income=money_pb2.Money(currency_code="EUR", amount="3200.00"),
                credit_report=credit_report_pb2.CreditReport(fallback=True, provider="ASNEF"),
            )
        )
    )

    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")
