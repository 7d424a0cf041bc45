"""A scoring job, from a submitted application to a recorded decision: take it (StartValidation), ask the
bureau, run the country's rules, record the decision. Every step is idempotent by job id, so a job that
is delivered again never produces a second decision."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from globalcredit.intake.v1 import events_pb2
from globalcredit.type.v1 import credit_report_pb2, money_pb2
from scoring import convert, metrics
from scoring.engine import Decision, decide
from scoring.facts import Country
from scoring.upstream import Bureau, Intake, JobOver
from svckit.errors import FieldViolation
from svckit.pull_worker import PermanentError

log = logging.getLogger(__name__)


class Scorer:
    def __init__(
        self, intake: Intake, bureau: Bureau, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ):
        self._intake = intake
        self._bureau = bureau
        self._clock = clock

    async def run(self, job: events_pb2.ApplicationSubmitted) -> Decision | None:
        """Decides the job's application; None when the application had moved on without it."""
        try:
            application = await self._intake.start_validation(job.name, job.event_id)
        except JobOver:
            metrics.JOBS.labels("over").inc()
            return None
        country = convert.country_from_proto(application.country)
        if country is None:
            raise PermanentError("the application has no known country")
        report = await self._bureau.credit_report(
            application.country, application.applicant.identity_document, application.consent.reference
        )
        decision = evaluate(
            country,
            application.requested_amount,
            application.monthly_income,
            application.term_months,
            report,
        )
        try:
            await self._intake.record_decision(
                job.name, job.event_id, convert.decision_to_proto(decision, self._clock()), report
            )
        except JobOver:
            metrics.JOBS.labels("over").inc()
            return None
        metrics.JOBS.labels("decided").inc()
        metrics.DECISIONS.labels(country.value, decision.outcome.value).inc()
        metrics.SUBMIT_TO_DECISION.labels(country.value).observe(
            (self._clock() - job.occur_time.ToDatetime(tzinfo=UTC)).total_seconds()
        )
        return decision


def evaluate(
    country: Country,
    requested_amount: money_pb2.Money,
    monthly_income: money_pb2.Money,
    term_months: int,
    report: credit_report_pb2.CreditReport,
) -> Decision:
    """The country's current rules on an application's figures and a report, exactly as the pipeline and
    EvaluateApplication both run them. Raises `InvalidFigures` naming every bad field."""
    violations: list[FieldViolation] = []
    application = convert.application_facts(
        country,
        requested_amount,
        monthly_income,
        term_months,
        violations,
    )
    bureau = convert.bureau_facts(report, country.currency, violations, prefix="credit_report.")
    if application is None or bureau is None:
        raise InvalidFigures(violations)
    return decide(application, bureau)


class InvalidFigures(PermanentError):
    """An application's figures or a report the rules cannot run on."""

    def __init__(self, violations: list[FieldViolation]) -> None:
        super().__init__(f"{len(violations)} invalid field(s): {', '.join(v.field for v in violations)}")
        self.violations = violations
