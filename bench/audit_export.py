"""Peak memory of the audit export: `goals audit export` over 100,000 and 1,000,000 events, and
as many access records.

    uv run python -m bench.audit_export [--events 1000000]

Creates a scratch database `goals_bench_<random>` on the server that `DATABASE_URL` names, fills
its log with check-in events of one clinic, a millisecond apart, inserted straight into `events`
(100,000 rows a statement), and its access log with as many reads of the clinic's goals by one
therapist, a millisecond apart too, then runs the export command three times in a process of its
own, writing to /dev/null: over an empty range (the process's floor: interpreter, imports, one
connection), over the first tenth of the records, and over all of them. Reports each run's time,
rate in records (events and access records) beyond the empty run's time, and peak resident memory
(the child's own, from wait4), and drops the database.
"""

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from infra.db.migrate import migrate
from infra.db.pool import create_database_if_missing, drop_database, url_for_database

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
START = datetime(2026, 1, 5, 9, tzinfo=UTC)
INSERT_ROWS = 100_000

_SEED = """
INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata, recorded_at)
SELECT 'goal-' || goal_id, 1, gen_random_uuid(), 'progress_recorded',
       jsonb_build_object(
           'type', 'progress_recorded', 'goal_id', goal_id,
           'check_in_id', gen_random_uuid(), 'amount', 1, 'occurred_at', $3::timestamptz,
           'note', 'Walked around the park after lunch, as planned'),
       jsonb_build_object(
           'actor_id', $4::uuid, 'actor_role', 'client', 'clinic_id', $1::uuid,
           'correlation_id', 'bench-' || n, 'schema_version', 1,
           'token_id', $4::uuid),
       $3::timestamptz + n * interval '1 millisecond'
FROM generate_series($2::bigint, $2::bigint + $5 - 1) AS n,
     LATERAL (SELECT md5($1::uuid::text || n)::uuid AS goal_id) AS goal
"""


_SEED_ACCESS = """
INSERT INTO access_log (requested_at, recorded_at, clinic_id, user_id, token_id, role,
    client_ids, goal_ids, method, route, path, status, correlation_id)
SELECT at, at, $1, $4, $5, 'therapist', ARRAY[md5('client' || n)::uuid], ARRAY[goal_id], 'GET',
       '/v1/goals/{goal_id:uuid}', '/v1/goals/' || goal_id, 200, 'bench-read-' || n
FROM generate_series($2::bigint, $2::bigint + $6 - 1) AS n,
     LATERAL (SELECT md5($1::uuid::text || n)::uuid AS goal_id,
                     $3::timestamptz + n * interval '1 millisecond' AS at) AS read
"""

_SEED_READER = """
WITH clinic AS (INSERT INTO clinics (id, name) VALUES ($1, 'bench') RETURNING id),
reader AS (
    INSERT INTO users (id, clinic_id, role, display_name, email, time_zone)
    SELECT $2, id, 'therapist', 'bench therapist', 'bench@example.org', 'UTC' FROM clinic
    RETURNING id
)
INSERT INTO access_tokens (id, user_id, secret_hash, expires_at)
SELECT $3::uuid, id, convert_to($3::uuid::text, 'UTF8'), now() + interval '1 day' FROM reader
"""


async def _fill(conn: asyncpg.Connection, events: int, clinic: uuid.UUID) -> None:
    actor, reader, token = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await conn.execute(_SEED_READER, clinic, reader, token)
    for first in range(1, events + 1, INSERT_ROWS):
        count = min(INSERT_ROWS, events + 1 - first)
        await conn.execute(_SEED, clinic, first, START, actor, count)
        await conn.execute(_SEED_ACCESS, clinic, first, START, reader, token, count)
    await conn.execute("ANALYZE events")
    await conn.execute("ANALYZE access_log")


def _export(url: str, clinic: uuid.UUID, until: datetime) -> tuple[float, float]:
    """One `goals audit export` to /dev/null; its seconds and its peak resident MiB."""
    command = [sys.executable, "-m", "services.cli", "audit", "export", "--clinic", str(clinic)]
    command += ["--from", START.isoformat(), "--to", until.isoformat(), "--output", os.devnull]
    started = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and command line
        command, env={**os.environ, "DATABASE_URL": url}, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the export failed: {status}")
    return seconds, usage.ru_maxrss / 1024


async def main(arguments: argparse.Namespace) -> None:
    server = os.environ.get("DATABASE_URL", DEFAULT_SERVER_URL)
    url = url_for_database(server, f"goals_bench_{secrets.token_hex(4)}")
    await create_database_if_missing(url)
    clinic = uuid.uuid4()
    try:
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
            filled = time.perf_counter()
            await _fill(conn, arguments.events, clinic)
            seconds = time.perf_counter() - filled
            print(
                f"logs filled with {arguments.events:,} events and as many access records "
                f"in {seconds:.1f} s"
            )
        finally:
            await conn.close()
        print("| events + access records exported | time | rate | peak RSS of the export process |")
        print("| ---: | ---: | ---: | ---: |")
        floor = 0.0
        for events in (0, arguments.events // 10, arguments.events):
            # The range's end is exclusive: event and read n are recorded n milliseconds after
            # START.
            until = START + timedelta(milliseconds=events + 1)
            seconds, peak = _export(url, clinic, until)
            # The rate leaves out what the empty export took: starting Python and connecting.
            floor = floor or seconds
            records = 2 * events
            rate = f"{records / max(seconds - floor, 1e-3):,.0f} records/s" if events else "-"
            print(f"| {events:,} + {events:,} | {seconds:.1f} s | {rate} | {peak:,.0f} MiB |")
    finally:
        await drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    asyncio.run(main(parser.parse_args()))
