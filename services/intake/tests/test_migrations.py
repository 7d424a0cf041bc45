"""Intake's Alembic migrations on a fresh, empty database: up to head, down to base, and up again."""

import asyncio
from typing import Any

import asyncpg

from intake.migrate import downgrade, migrate
from svckit.db import libpq_url

TABLES = {"applications", "decisions", "bank_confirmations", "application_events", "outbox_events"}
FUNCTIONS = {
    "outbox_events_trace_context",
    "applications_record_approval_and_erasure",
    "applications_touch",
    "applications_record_change",
    "bank_confirmations_record",
    "application_events_append_only",
    "outbox_events_notify",
}
TRIGGERS = {
    ("applications", "applications_touch"),
    ("applications", "applications_record_change"),
    ("applications", "applications_record_approval_and_erasure"),
    ("bank_confirmations", "bank_confirmations_record"),
    ("application_events", "application_events_append_only"),
    ("application_events", "application_events_no_truncate"),
    ("outbox_events", "outbox_events_notify"),
    ("outbox_events", "outbox_events_trace_context"),
}


async def schema(url: str) -> dict[str, Any]:
    """What the migrations made: tables, functions, triggers and the recorded revision."""
    connection = await asyncpg.connect(libpq_url(url))
    try:
        tables = {
            row["tablename"]
            for row in await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        functions = {
            row["proname"]
            for row in await connection.fetch(
                "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public'"
            )
        }
        triggers = {
            (row["relname"], row["tgname"])
            for row in await connection.fetch(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal"
            )
        }
        revisions = (
            [row["version_num"] for row in await connection.fetch("SELECT version_num FROM alembic_version")]
            if "alembic_version" in tables
            else None
        )
    finally:
        await connection.close()
    return {"tables": tables, "functions": functions, "triggers": triggers, "revisions": revisions}


async def test_migrations_go_up_to_head_down_to_base_and_up_again(fresh_database: Any) -> None:
    url = await fresh_database()
    assert (await schema(url))["tables"] == set()

    await asyncio.to_thread(migrate, url)
    assert await schema(url) == {
        "tables": TABLES | {"alembic_version"},
        "functions": FUNCTIONS,
        "triggers": TRIGGERS,
        "revisions": ["0004"],
    }

    await asyncio.to_thread(downgrade, url, "base")
    assert await schema(url) == {
        "tables": {"alembic_version"},
        "functions": set(),
        "triggers": set(),
        "revisions": [],
    }

    await asyncio.to_thread(migrate, url, "head")
    assert await schema(url) == {
        "tables": TABLES | {"alembic_version"},
        "functions": FUNCTIONS,
        "triggers": TRIGGERS,
        "revisions": ["0004"],
    }


async def test_after_a_downgrade_and_upgrade_an_insert_writes_its_audit_and_outbox_rows(
    fresh_database: Any,
) -> None:
    url = await fresh_database()
    await asyncio.to_thread(migrate, url)
    await asyncio.to_thread(downgrade, url)
    await asyncio.to_thread(migrate, url)
    connection = await asyncpg.connect(libpq_url(url))
    try:
        await connection.execute(
            """
            INSERT INTO applications (id, country, status, status_actor, status_reason, currency,
                requested_amount, monthly_income, term_months, document_type, document_blind_index,
                pii_key_id, pii_wrapped_key, full_name_ciphertext, document_ciphertext, consent_granted_at,
                consent_channel, consent_reference, created_by, request_id, request_fingerprint)
            VALUES (gen_random_uuid(), 'ES', 'PENDING', 'tester', 'submitted', 'EUR', 1000, 2000, 36, 'DNI',
                '\\x01', 'k1', '\\x02', '\\x03', '\\x04', now(), 'WEB', 'consent-1', 'tester',
                gen_random_uuid(), '\\x05')
            """
        )
        kinds = [row["kind"] for row in await connection.fetch("SELECT kind FROM application_events")]
        subjects = [row["subject"] for row in await connection.fetch("SELECT subject FROM outbox_events")]
    finally:
        await connection.close()
    assert kinds == ["CREATED"]
    assert subjects == ["intake.application.submitted"]
