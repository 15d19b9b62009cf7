"""Peak memory of the audit export: `goals audit export` over 100,000 and 1,000,000 events.

    uv run python -m bench.audit_export [--events 1000000]

Creates a scratch database `goals_bench_<random>` on the server that `DATABASE_URL` names, fills
its log with check-in events of one clinic, a millisecond apart, inserted straight into `events`
(100,000 rows a statement), then runs the export command three times in a process of its own,
writing to /dev/null: over an empty range (the process's floor: interpreter, imports, one
connection), over the first tenth of the events, and over all of them. Reports each run's time,
rate (beyond the empty run's time) and peak resident memory (the child's own, from wait4), and
drops the database.
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


async def _fill(conn: asyncpg.Connection, events: int, clinic: uuid.UUID) -> None:
    actor = uuid.uuid4()
    for first in range(1, events + 1, INSERT_ROWS):
        count = min(INSERT_ROWS, events + 1 - first)
        await conn.execute(_SEED, clinic, first, START, actor, count)
    await conn.execute("ANALYZE events")


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
            print(f"log filled with {arguments.events:,} events in {seconds:.1f} s")
        finally:
            await conn.close()
        print("| events exported | time | rate | peak RSS of the export process |")
        print("| ---: | ---: | ---: | ---: |")
        floor = 0.0
        for events in (0, arguments.events // 10, arguments.events):
            # The range's end is exclusive: event n is recorded n milliseconds after START.
            until = START + timedelta(milliseconds=events + 1)
            seconds, peak = _export(url, clinic, until)
            # The rate leaves out what the empty export took: starting Python and connecting.
            floor = floor or seconds
            rate = f"{events / max(seconds - floor, 1e-3):,.0f} events/s" if events else "-"
            print(f"| {events:,} | {seconds:.1f} s | {rate} | {peak:,.0f} MiB |")
    finally:
        await drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    asyncio.run(main(parser.parse_args()))
