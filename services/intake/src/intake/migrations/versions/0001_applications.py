"""Applications, decisions, bank confirmations, the audit trail and the outbox.

The audit trail and the outbox are written by triggers, in the transaction of the change they record,
so that no code path can change an application without both.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from intake.migrate import execute_script

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UPGRADE = r"""
CREATE TABLE applications (
    id                    uuid PRIMARY KEY,
    country               text NOT NULL CHECK (country IN ('ES', 'PT', 'IT', 'MX', 'CO', 'BR')),
    status                text NOT NULL CHECK (status IN ('PENDING', 'VALIDATING', 'APPROVED', 'REJECTED',
                                                          'UNDER_REVIEW', 'CANCELLED', 'COMPLETED')),
    -- Who made the latest status change and why: read by the audit trigger.
    status_actor          text NOT NULL,
    status_reason         text NOT NULL,
    -- Bumped by a trigger on every update; the etag.
    version               bigint NOT NULL DEFAULT 1,
    currency              text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    requested_amount      numeric(14, 2) NOT NULL CHECK (requested_amount > 0),
    monthly_income        numeric(14, 2) NOT NULL CHECK (monthly_income > 0),
    term_months           smallint NOT NULL CHECK (term_months BETWEEN 6 AND 120),
    document_type         text NOT NULL,
    -- HMAC of the normalised document under a per-country key: lookups without plaintext.
    document_blind_index  bytea NOT NULL,
    -- Envelope encryption: the record's data key wrapped by key-encryption key `pii_key_id`.
    -- A NULL wrapped key means the applicant's data was erased.
    pii_key_id            text NOT NULL,
    pii_wrapped_key       bytea,
    full_name_ciphertext  bytea NOT NULL,
    document_ciphertext   bytea NOT NULL,
    consent_granted_at    timestamptz NOT NULL,
    consent_channel       text NOT NULL,
    consent_reference     text NOT NULL,
    country_details       jsonb,
    partner_id            text,
    created_by            text NOT NULL,
    request_id            uuid NOT NULL,
    -- Keyed digest of the create request, to tell a retry from a reuse of its request_id.
    request_fingerprint   bytea NOT NULL,
    -- The scoring job that took the application to VALIDATING.
    scoring_job_id        text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX applications_request_id_key ON applications (request_id);
-- At most one open application per document and country, enforced under concurrency.
CREATE UNIQUE INDEX applications_open_document_key ON applications (country, document_blind_index)
    WHERE status NOT IN ('REJECTED', 'CANCELLED', 'COMPLETED');
-- Keyset pages, newest first, for each combination of list filters.
CREATE INDEX applications_country_status_id_idx ON applications (country, status, id DESC);
CREATE INDEX applications_country_id_idx ON applications (country, id DESC);
CREATE INDEX applications_status_id_idx ON applications (status, id DESC);
CREATE INDEX applications_partner_id_idx ON applications (partner_id, id DESC) WHERE partner_id IS NOT NULL;

CREATE TABLE decisions (
    id                         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id             uuid NOT NULL REFERENCES applications (id),
    job_id                     text NOT NULL UNIQUE,
    outcome                    text NOT NULL CHECK (outcome IN ('APPROVE', 'REJECT', 'REVIEW')),
    risk_score                 numeric(5, 2) NOT NULL CHECK (risk_score BETWEEN 0 AND 100),
    risk_level                 text NOT NULL CHECK (risk_level IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
    reasons                    jsonb NOT NULL,
    rule_set_version           text NOT NULL,
    decided_at                 timestamptz NOT NULL,
    report_provider            text NOT NULL,
    report_credit_score        integer,
    report_currency            text NOT NULL CHECK (report_currency ~ '^[A-Z]{3}$'),
    report_total_debt          numeric(14, 2) NOT NULL CHECK (report_total_debt >= 0),
    report_monthly_obligations numeric(14, 2) NOT NULL CHECK (report_monthly_obligations >= 0),
    report_has_defaults        boolean NOT NULL,
    report_account_age_months  integer NOT NULL CHECK (report_account_age_months >= 0),
    report_fallback            boolean NOT NULL,
    report_id                  text NOT NULL,
    reported_at                timestamptz,
    created_at                 timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decisions_application_id_idx ON decisions (application_id, id DESC);

CREATE TABLE bank_confirmations (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id      uuid NOT NULL REFERENCES applications (id),
    webhook_id          text NOT NULL UNIQUE,
    bank_reference      text NOT NULL,
    identity_verified   boolean NOT NULL,
    disbursed           boolean NOT NULL,
    currency            text CHECK (currency ~ '^[A-Z]{3}$'),
    amount_disbursed    numeric(14, 2) CHECK (amount_disbursed >= 0),
    occurred_at         timestamptz NOT NULL,
    recorded_by         text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((currency IS NULL) = (amount_disbursed IS NULL))
);
CREATE INDEX bank_confirmations_application_id_idx ON bank_confirmations (application_id, id);

-- The audit trail. Append-only: triggers refuse updates, deletes and truncation.
CREATE TABLE application_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id  uuid NOT NULL REFERENCES applications (id),
    kind            text NOT NULL CHECK (kind IN ('CREATED', 'STATUS_CHANGED', 'BANK_CONFIRMATION_RECORDED',
                                                  'PII_REVEALED')),
    actor           text NOT NULL,
    from_status     text,
    to_status       text,
    reason          text NOT NULL DEFAULT '',
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX application_events_application_id_idx ON application_events (application_id, id);

-- Events waiting for JetStream. The relay publishes them in id order and stamps published_at once
-- JetStream has acknowledged them. Payloads hold no PII.
CREATE TABLE outbox_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        uuid NOT NULL DEFAULT gen_random_uuid(),
    application_id  uuid NOT NULL,
    subject         text NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at    timestamptz
);
CREATE INDEX outbox_events_unpublished_idx ON outbox_events (id) WHERE published_at IS NULL;

-- Every update of an application bumps its version (the etag) and its update time.
CREATE FUNCTION applications_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER applications_touch BEFORE UPDATE ON applications
    FOR EACH ROW EXECUTE FUNCTION applications_touch();

-- Creation and every status change: one audit row and one outbox row, in the same transaction.
CREATE FUNCTION applications_record_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    decision record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO application_events
            (application_id, kind, actor, from_status, to_status, reason, occurred_at)
        VALUES (NEW.id, 'CREATED', NEW.status_actor, NULL, NEW.status, NEW.status_reason, NEW.created_at);
        INSERT INTO outbox_events (application_id, subject, payload)
        VALUES (NEW.id, 'intake.application.submitted', jsonb_build_object(
            'application_id', NEW.id,
            'country', NEW.country,
            'currency', NEW.currency,
            'requested_amount', NEW.requested_amount::text,
            'monthly_income', NEW.monthly_income::text,
            'term_months', NEW.term_months,
            'partner_id', NEW.partner_id,
            'occurred_at', NEW.created_at));
        RETURN NULL;
    END IF;
    IF NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NULL;
    END IF;
    SELECT d.outcome, d.risk_score, d.job_id INTO decision
        FROM decisions d WHERE d.application_id = NEW.id ORDER BY d.id DESC LIMIT 1;
    INSERT INTO application_events
        (application_id, kind, actor, from_status, to_status, reason, occurred_at)
    VALUES (NEW.id, 'STATUS_CHANGED', NEW.status_actor, OLD.status, NEW.status, NEW.status_reason,
            NEW.updated_at);
    INSERT INTO outbox_events (application_id, subject, payload)
    VALUES (NEW.id, 'intake.application.status_changed', jsonb_build_object(
        'application_id', NEW.id,
        'country', NEW.country,
        'old_status', OLD.status,
        'new_status', NEW.status,
        'partner_id', NEW.partner_id,
        'version', NEW.version,
        'risk_score', decision.risk_score::text,
        -- The outcome only on the change that records the decision.
        'decision_outcome', CASE WHEN OLD.status = 'VALIDATING' AND decision.job_id = NEW.scoring_job_id
                                 THEN decision.outcome END,
        'occurred_at', NEW.updated_at));
    RETURN NULL;
END $$;
CREATE TRIGGER applications_record_change AFTER INSERT OR UPDATE OF status ON applications
    FOR EACH ROW EXECUTE FUNCTION applications_record_change();

CREATE FUNCTION bank_confirmations_record() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    application record;
BEGIN
    SELECT a.country, a.partner_id, a.status INTO application
        FROM applications a WHERE a.id = NEW.application_id;
    INSERT INTO application_events
        (application_id, kind, actor, from_status, to_status, reason, occurred_at)
    VALUES (NEW.application_id, 'BANK_CONFIRMATION_RECORDED', NEW.recorded_by, application.status,
            application.status, 'bank reference ' || NEW.bank_reference, NEW.created_at);
    INSERT INTO outbox_events (application_id, subject, payload)
    VALUES (NEW.application_id, 'intake.application.bank_confirmation_recorded', jsonb_build_object(
        'application_id', NEW.application_id,
        'country', application.country,
        'partner_id', application.partner_id,
        'webhook_id', NEW.webhook_id,
        'bank_reference', NEW.bank_reference,
        'identity_verified', NEW.identity_verified,
        'disbursed', NEW.disbursed,
        'currency', NEW.currency,
        'amount_disbursed', NEW.amount_disbursed::text,
        'occurred_at', NEW.created_at));
    RETURN NULL;
END $$;
CREATE TRIGGER bank_confirmations_record AFTER INSERT ON bank_confirmations
    FOR EACH ROW EXECUTE FUNCTION bank_confirmations_record();

CREATE FUNCTION application_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER application_events_append_only BEFORE UPDATE OR DELETE ON application_events
    FOR EACH ROW EXECUTE FUNCTION application_events_append_only();
CREATE TRIGGER application_events_no_truncate BEFORE TRUNCATE ON application_events
    FOR EACH STATEMENT EXECUTE FUNCTION application_events_append_only();

-- Wake the relay once per statement that queued events; NOTIFY is delivered at commit.
CREATE FUNCTION outbox_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('intake_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_events_notify();
"""

DOWNGRADE = r"""
DROP TABLE outbox_events, application_events, bank_confirmations, decisions, applications;
DROP FUNCTION outbox_events_notify(), application_events_append_only(), bank_confirmations_record(),
    applications_record_change(), applications_touch();
"""


def upgrade() -> None:
    execute_script(UPGRADE)


def downgrade() -> None:
    execute_script(DOWNGRADE)
