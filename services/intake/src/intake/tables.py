"""SQLAlchemy Core descriptions of intake's tables, for building queries. The schema itself (with its
constraints, indexes and triggers) is owned by the Alembic migrations."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

Money = Numeric(14, 2, asdecimal=True)
Timestamp = DateTime(timezone=True)

applications = Table(
    "applications",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("country", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("status_actor", Text, nullable=False),
    Column("status_reason", Text, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("currency", Text, nullable=False),
    Column("requested_amount", Money, nullable=False),
    Column("monthly_income", Money, nullable=False),
    Column("term_months", SmallInteger, nullable=False),
    Column("document_type", Text, nullable=False),
    Column("document_blind_index", LargeBinary, nullable=False),
    Column("pii_key_id", Text, nullable=False),
    Column("pii_wrapped_key", LargeBinary),
    Column("full_name_ciphertext", LargeBinary, nullable=False),
    Column("document_ciphertext", LargeBinary, nullable=False),
    Column("consent_granted_at", Timestamp, nullable=False),
    Column("consent_channel", Text, nullable=False),
    Column("consent_reference", Text, nullable=False),
    Column("country_details", JSONB),
    Column("partner_id", Text),
    Column("created_by", Text, nullable=False),
    Column("request_id", Uuid, nullable=False),
    Column("request_fingerprint", LargeBinary, nullable=False),
    Column("scoring_job_id", Text),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("application_id", Uuid, nullable=False),
    Column("job_id", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("risk_score", Numeric(5, 2, asdecimal=True), nullable=False),
    Column("risk_level", Text, nullable=False),
    Column("reasons", JSONB, nullable=False),
    Column("rule_set_version", Text, nullable=False),
    Column("decided_at", Timestamp, nullable=False),
    Column("report_provider", Text, nullable=False),
    Column("report_credit_score", Integer),
    Column("report_currency", Text, nullable=False),
    Column("report_total_debt", Money, nullable=False),
    Column("report_monthly_obligations", Money, nullable=False),
    Column("report_has_defaults", Boolean, nullable=False),
    Column("report_account_age_months", Integer, nullable=False),
    Column("report_fallback", Boolean, nullable=False),
    Column("report_id", Text, nullable=False),
    Column("reported_at", Timestamp),
    Column("created_at", Timestamp, nullable=False),
)

bank_confirmations = Table(
    "bank_confirmations",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("application_id", Uuid, nullable=False),
    Column("webhook_id", Text, nullable=False),
    Column("bank_reference", Text, nullable=False),
    Column("identity_verified", Boolean, nullable=False),
    Column("disbursed", Boolean, nullable=False),
    Column("currency", Text),
    Column("amount_disbursed", Money),
    Column("occurred_at", Timestamp, nullable=False),
    Column("recorded_by", Text, nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

application_events = Table(
    "application_events",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("application_id", Uuid, nullable=False),
    Column("kind", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("from_status", Text),
    Column("to_status", Text),
    Column("reason", Text, nullable=False),
    Column("occurred_at", Timestamp, nullable=False),
    Column("created_at", Timestamp, nullable=False),
)

outbox_events = Table(
    "outbox_events",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("event_id", Uuid, nullable=False),
    Column("application_id", Uuid, nullable=False),
    Column("subject", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("published_at", Timestamp),
)
