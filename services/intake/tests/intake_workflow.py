"""Drives applications through intake's RPCs to any status, as scoring, analysts and the bank shim would."""

import random
import uuid

from google.protobuf.timestamp_pb2 import Timestamp

from globalcredit.intake.v1 import application_pb2, intake_service_pb2, intake_service_pb2_grpc
from globalcredit.type.v1 import credit_report_pb2, decision_pb2, money_pb2
from samples.applications import create_request

S = application_pb2
OUTCOME_BY_STATUS = {
    S.APPLICATION_STATUS_APPROVED: decision_pb2.DECISION_OUTCOME_APPROVE,
    S.APPLICATION_STATUS_REJECTED: decision_pb2.DECISION_OUTCOME_REJECT,
    S.APPLICATION_STATUS_UNDER_REVIEW: decision_pb2.DECISION_OUTCOME_REVIEW,
}


def decision(outcome: int, *, score: str = "42.00") -> decision_pb2.Decision:
    return decision_pb2.Decision(
        outcome=outcome,  # type: ignore[arg-type]
        risk_score=score,
        risk_level=decision_pb2.RISK_LEVEL_MEDIUM,
        reasons=[
            decision_pb2.DecisionReason(
                code="ES_AMOUNT_REVIEW",
                effect=decision_pb2.RULE_EFFECT_SOFT,
                points=15,
                observed="22000.00",
                threshold="20000.00",
                message="The amount asked for is above 20,000.00",
                localized_messages={"es": "El importe solicitado supera 20.000,00"},
            )
        ],
        rule_set_version="ES-2026.1",
    )


def credit_report(currency: str = "EUR") -> credit_report_pb2.CreditReport:
    """A clean report; its money is in `currency` (which must be the application's)."""
    return credit_report_pb2.CreditReport(
        provider="ASNEF",
        credit_score=712,
        total_debt=money_pb2.Money(currency_code=currency, amount="8200.00"),
        monthly_obligations=money_pb2.Money(currency_code=currency, amount="310.00"),
        has_defaults=False,
        account_age_months=84,
        report_id="asnef-0001",
    )


def now() -> Timestamp:
    timestamp = Timestamp()
    timestamp.GetCurrentTime()
    return timestamp


class Workflow:
    """Moves applications as the scoring service, an analyst and the bank shim."""

    def __init__(
        self,
        analyst: intake_service_pb2_grpc.IntakeServiceStub,
        scoring: intake_service_pb2_grpc.IntakeServiceStub,
        rng: random.Random | None = None,
    ) -> None:
        self.analyst = analyst
        self.scoring = scoring
        self.rng = rng or random.Random()

    async def create(
        self, country: str = "ES", *, amount: str | None = None, income: str | None = None
    ) -> application_pb2.Application:
        response = await self.analyst.CreateApplication(
            create_request(country, rng=self.rng, amount=amount, income=income)
        )
        return response.application

    async def start(self, name: str, job_id: str) -> application_pb2.Application:
        request = intake_service_pb2.StartValidationRequest(name=name, job_id=job_id)
        return (await self.scoring.StartValidation(request)).application

    async def decide(
        self, name: str, job_id: str, outcome: int, *, currency: str = "EUR"
    ) -> application_pb2.Application:
        request = intake_service_pb2.RecordDecisionRequest(
            name=name, job_id=job_id, decision=decision(outcome), credit_report=credit_report(currency)
        )
        return (await self.scoring.RecordDecision(request)).application

    async def fail(
        self, name: str, job_id: str, failure_code: str = "BUREAU_REFUSED"
    ) -> application_pb2.Application:
        request = intake_service_pb2.RecordScoringFailureRequest(
            name=name, job_id=job_id, failure_code=failure_code
        )
        return (await self.scoring.RecordScoringFailure(request)).application

    async def confirm(
        self,
        name: str,
        *,
        verified: bool,
        disbursed: bool,
        webhook_id: str | None = None,
        occur_time: Timestamp | None = None,
    ) -> application_pb2.Application:
        request = intake_service_pb2.RecordBankConfirmationRequest(
            name=name,
            webhook_id=webhook_id or f"wh_{uuid.uuid4().hex}",
            bank_reference="BANK-REF-1",
            identity_verified=verified,
            disbursed=disbursed,
            occur_time=occur_time or now(),
        )
        return (await self.scoring.RecordBankConfirmation(request)).application

    async def cancel(self, application: application_pb2.Application) -> application_pb2.Application:
        request = intake_service_pb2.CancelApplicationRequest(
            name=application.name, reason="applicant withdrew", etag=application.etag
        )
        return (await self.analyst.CancelApplication(request)).application

    async def application_in(
        self, status: int, *, country: str = "ES", amount: str | None = None, income: str | None = None
    ) -> application_pb2.Application:
        """A new application (Spain unless told), moved to `status` along the workflow's own paths."""
        application = await self.create(country, amount=amount, income=income)
        if status == S.APPLICATION_STATUS_PENDING:
            return application
        if status == S.APPLICATION_STATUS_CANCELLED:
            return await self.cancel(application)
        job_id = str(uuid.uuid4())
        application = await self.start(application.name, job_id)
        if status == S.APPLICATION_STATUS_VALIDATING:
            return application
        currency = application.requested_amount.currency_code
        if status == S.APPLICATION_STATUS_COMPLETED:
            await self.decide(
                application.name, job_id, decision_pb2.DECISION_OUTCOME_APPROVE, currency=currency
            )
            return await self.confirm(application.name, verified=True, disbursed=True)
        return await self.decide(application.name, job_id, OUTCOME_BY_STATUS[status], currency=currency)
