"""What the benchmark asks PostgreSQL directly: the server's durability settings, the outbox backlog, each
decided application's timeline (where submit-to-decision's time goes), and the machine's ceiling —
single-row INSERT commits into a scratch table as wide as an application row, measured with pgbench (or,
where there is none, an asyncpg loop) on the very server intake used."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID

import asyncpg

from svckit.local import LocalPostgres

CEILING_DATABASE = "bench_ceiling"
SCRATCH_TABLE = """
CREATE TABLE IF NOT EXISTS raw_inserts (
    id                uuid PRIMARY KEY,
    country           text NOT NULL,
    status            text NOT NULL,
    currency          text NOT NULL,
    requested_amount  numeric(14, 2) NOT NULL,
    monthly_income    numeric(14, 2) NOT NULL,
    reference         text NOT NULL,
    payload           bytea NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
)
"""
# About an application row's width: a uuid, a few short texts and amounts, ~300 bytes of ciphertext.
_INSERT = (
    "INSERT INTO raw_inserts (id, country, status, currency, requested_amount, monthly_income, reference, "
    "payload) VALUES (gen_random_uuid(), 'ES', 'PENDING', 'EUR', 12000.00, 3200.00, {reference}, "
    "decode(repeat('5a', 300), 'hex'))"
)
PGBENCH_SCRIPT = "\\set n random(1, 1000000000)\n" + _INSERT.format(reference="'consent-' || :n") + ";\n"
ASYNCPG_INSERT = _INSERT.format(reference="$1")

_SETTINGS = ("server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_sync_method")
_OUTBOX_BACKLOG = "SELECT count(*) FROM outbox_events WHERE published_at IS NULL"
_POLL_SECONDS = 0.02
_UNDECIDED = "SELECT count(*) FROM applications WHERE status IN ('PENDING', 'VALIDATING')"
# One row per application: the moments its way to a decision left in intake's tables, all on the
# database server's clock (the same machine's wall clock as the load process's).
#   created        applications.created_at   the create's transaction began (now())
#   submitted      outbox, submitted         the relay stamped it published (after JetStream's ack)
#   validating     outbox, -> VALIDATING     StartValidation wrote the status change (clock_timestamp())
#   reported       decisions.reported_at     the simulated bureau answered (bureau-gateway's clock)
#   decided        decisions.decided_at      scoring decided (scoring's clock), before RecordDecision
#   recording      decisions.created_at      RecordDecision's transaction began (now())
#   written        outbox, the decision      RecordDecision wrote the status change (clock_timestamp())
#   published      outbox, the decision      the relay stamped it published (after JetStream's ack)
_TIMELINE = """
SELECT a.id, a.created_at AS created, submitted.published_at AS submitted,
       validating.created_at AS validating, d.reported_at AS reported, d.decided_at AS decided,
       d.created_at AS recording, decision.created_at AS written, decision.published_at AS published,
       d.report_fallback AS fallback
FROM applications a
LEFT JOIN decisions d ON d.application_id = a.id
LEFT JOIN outbox_events submitted
       ON submitted.application_id = a.id AND submitted.subject = 'intake.application.submitted'
LEFT JOIN outbox_events validating
       ON validating.application_id = a.id AND validating.subject = 'intake.application.status_changed'
      AND validating.payload->>'new_status' = 'VALIDATING'
LEFT JOIN outbox_events decision
       ON decision.application_id = a.id AND decision.subject = 'intake.application.status_changed'
      AND decision.payload->>'decision_outcome' IS NOT NULL
WHERE a.id = ANY($1::uuid[])
"""
TIMELINE_POINTS = (
    "created",
    "submitted",
    "validating",
    "reported",
    "decided",
    "recording",
    "written",
    "published",
)


class CeilingError(RuntimeError):
    """The raw insert rate could not be measured."""


@dataclass(frozen=True)
class ServerFacts:
    version: str
    fsync: str
    synchronous_commit: str
    full_page_writes: str
    wal_sync_method: str


@dataclass(frozen=True)
class InsertCeiling:
    connections: int
    inserts_per_s: float
    latency_ms: float
    """Mean commit latency as the client saw it."""
    inserts: int
    failed: int
    tool: str


@dataclass(frozen=True)
class OutboxDrain:
    backlog: int
    """Unpublished outbox rows when the load stopped."""
    seconds: float
    """From the end of the load until none was left (or until the deadline, when `drained` is False)."""
    drained: bool


@dataclass(frozen=True)
class Timeline:
    """One application's way to its decision, as intake's tables recorded it (seconds since the epoch;
    None where a point is missing)."""

    application_id: UUID
    points: dict[str, float | None]
    """By TIMELINE_POINTS name."""
    fallback: bool | None
    """Whether its decision was made on a fallback report; None when it has no decision."""


def decision_timelines(database_url: str, names: Sequence[str]) -> list[Timeline]:
    """The timelines of the applications `names` (`applications/{id}`)."""
    ids = [UUID(name.rsplit("/", 1)[-1]) for name in names]

    async def read() -> list[Timeline]:
        connection = await asyncpg.connect(database_url)
        try:
            rows = await connection.fetch(_TIMELINE, ids)
        finally:
            await connection.close()
        return [
            Timeline(
                application_id=row["id"],
                points={point: _epoch(row[point]) for point in TIMELINE_POINTS},
                fallback=row["fallback"],
            )
            for row in rows
        ]

    return asyncio.run(read())


def undecided_applications(database_url: str) -> int:
    """Applications still waiting for scoring (PENDING or VALIDATING)."""

    async def read() -> int:
        connection = await asyncpg.connect(database_url)
        try:
            return int(await connection.fetchval(_UNDECIDED))
        finally:
            await connection.close()

    return asyncio.run(read())


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def server_facts(database_url: str) -> ServerFacts:
    async def read() -> ServerFacts:
        connection = await asyncpg.connect(database_url)
        try:
            values = [str(await connection.fetchval(f"SHOW {name}")) for name in _SETTINGS]
        finally:
            await connection.close()
        return ServerFacts(*values)

    return asyncio.run(read())


def wait_for_outbox(database_url: str, timeout: float) -> OutboxDrain:
    """Poll the outbox until the relay has published every row, with a deadline."""

    async def drain() -> OutboxDrain:
        started = time.perf_counter()
        connection = await asyncpg.connect(database_url)
        try:
            backlog = remaining = int(await connection.fetchval(_OUTBOX_BACKLOG))
            while remaining and time.perf_counter() - started < timeout:
                await asyncio.sleep(_POLL_SECONDS)
                remaining = int(await connection.fetchval(_OUTBOX_BACKLOG))
        finally:
            await connection.close()
        return OutboxDrain(backlog, time.perf_counter() - started, drained=remaining == 0)

    return asyncio.run(drain())


def prepare_ceiling(postgres: LocalPostgres) -> str:
    """A database of its own on the same server, holding the empty scratch table; its URL."""
    url = postgres.create_database(CEILING_DATABASE, exist_ok=True)

    async def create() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(SCRATCH_TABLE)
            await connection.execute("TRUNCATE raw_inserts")
        finally:
            await connection.close()

    asyncio.run(create())
    return url


def find_pgbench(postgres: LocalPostgres) -> Path | None:
    """pgbench from the server's own binaries, when they include it."""
    candidate = postgres.bin_dir / "pgbench"
    return candidate if candidate.is_file() and os.access(candidate, os.X_OK) else None


def insert_ceiling(
    postgres: LocalPostgres, url: str, *, connections: int, duration: float, work_dir: Path
) -> InsertCeiling:
    """Single-row INSERT commits per second from `connections` connections, for `duration` seconds."""
    pgbench = find_pgbench(postgres)
    if pgbench is not None:
        return _pgbench(pgbench, postgres, connections=connections, duration=duration, work_dir=work_dir)
    return asyncio.run(_asyncpg_loop(url, connections=connections, duration=duration))


def _pgbench(
    pgbench: Path, postgres: LocalPostgres, *, connections: int, duration: float, work_dir: Path
) -> InsertCeiling:
    script = work_dir / "raw-insert.sql"
    script.write_text(PGBENCH_SCRIPT)
    argv = [
        os.fspath(pgbench),
        "--no-vacuum",
        f"--host={postgres.host}",
        f"--port={postgres.port}",
        f"--username={postgres.superuser}",
        f"--client={connections}",
        f"--jobs={min(connections, os.cpu_count() or 1)}",
        f"--time={max(1, round(duration))}",
        "--protocol=prepared",
        f"--file={script}",
        CEILING_DATABASE,
    ]
    # libpq's PG* variables could point pgbench elsewhere; we give it everything on the command line.
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
    environment.update(LC_ALL="C", LANG="C")
    completed = subprocess.run(  # noqa: S603 - our own argv
        argv,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environment,
        timeout=duration + 60,
        check=False,
    )
    if completed.returncode != 0:
        raise CeilingError(f"pgbench failed ({completed.returncode}): {completed.stderr.strip()}")
    return parse_pgbench(completed.stdout, connections)


def parse_pgbench(output: str, connections: int) -> InsertCeiling:
    """The figures of pgbench's summary."""

    def number(pattern: str) -> float:
        found = re.search(pattern, output, re.MULTILINE)
        if found is None:
            raise CeilingError(f"pgbench's output has no {pattern!r}:\n{output}")
        return float(found.group(1))

    failed = re.search(r"^number of failed transactions: (\d+)", output, re.MULTILINE)
    return InsertCeiling(
        connections=connections,
        inserts_per_s=number(r"^tps = ([\d.]+)"),
        latency_ms=number(r"^latency average = ([\d.]+) ms"),
        inserts=int(number(r"^number of transactions actually processed: (\d+)")),
        failed=int(failed.group(1)) if failed else 0,
        tool="pgbench",
    )


async def _asyncpg_loop(url: str, *, connections: int, duration: float) -> InsertCeiling:
    pool = [await asyncpg.connect(url) for _ in range(connections)]
    counts = [0] * connections
    failed = 0
    try:
        start = time.perf_counter()
        end = start + duration

        async def insert(index: int) -> None:
            nonlocal failed
            connection = pool[index]
            statement = await connection.prepare(ASYNCPG_INSERT)
            while time.perf_counter() < end:
                try:
                    await statement.fetch(f"consent-{index}-{counts[index]}")
                except asyncpg.PostgresError:
                    failed += 1
                    continue
                counts[index] += 1

        await asyncio.gather(*(insert(index) for index in range(connections)))
        elapsed = time.perf_counter() - start
    finally:
        for connection in pool:
            await connection.close()
    total = sum(counts)
    return InsertCeiling(
        connections=connections,
        inserts_per_s=total / elapsed,
        latency_ms=elapsed * connections / total * 1000 if total else 0.0,
        inserts=total,
        failed=failed,
        tool="asyncpg",
    )
