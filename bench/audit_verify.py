"""Verification rate of the event log's hash chain: `verify_log` over 100,000 and 1,000,000 events.

    uv run python -m bench.audit_verify [--events 1000000] [--small 100000] [--rounds 3]
        [--walkers 1,2,3]

Creates a scratch database `goals_bench_<random>` on the server that `DATABASE_URL` names,
migrates it and fills its log with check-in events of one clinic, 100 to a goal (a goal's events
in one statement, a thousand goals a statement), through the log's own trigger, so that every
event is chained as an append chains it. At `--small` events, then at `--events`, it signs a
checkpoint over the whole log (timed: the first checkpoint reads every event), then verifies the
whole log `--rounds` times for each of `--walkers` (the chains on that many connections, the
checkpoints on one more, at once), reporting the median time and rate, the rounds' range and the
process's peak resident memory after them, and drops the database.
"""

import argparse
import asyncio
import os
import resource
import secrets
import statistics
import time
import uuid

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infra.audit.checkpoints import make_checkpoint
from infra.audit.verification import WALKERS, verify_log
from infra.db.migrate import migrate
from infra.db.pool import create_database_if_missing, drop_database, url_for_database

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
EVENTS_PER_GOAL = 100
GOALS_PER_STATEMENT = 1_000

# A goal's events in version order, so that each one's trigger finds the one before it.
_FILL = """
INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
SELECT 'goal-' || g.goal_id, v, gen_random_uuid(), 'progress_recorded',
       jsonb_build_object(
           'type', 'progress_recorded', 'goal_id', g.goal_id,
           'check_in_id', gen_random_uuid(), 'amount', 1, 'occurred_at', now(),
           'note', 'Walked around the park after lunch, as planned'),
       jsonb_build_object(
           'actor_id', $3::uuid, 'actor_role', 'client', 'clinic_id', $4::uuid,
           'correlation_id', 'bench-' || g.n || '-' || v, 'schema_version', 1,
           'token_id', $3::uuid)
FROM (SELECT n, md5($4::uuid::text || n)::uuid AS goal_id
      FROM generate_series($1::int, $2::int) n) g,
     generate_series(1, $5::int) v
ORDER BY g.n, v
"""

_HEADS = """
INSERT INTO streams (stream_id, version)
SELECT 'goal-' || md5($3::text || n)::uuid, $4::int FROM generate_series($1::int, $2::int) n
"""


async def _fill(
    conn: asyncpg.Connection, goals_from: int, goals_to: int, clinic: uuid.UUID
) -> None:
    actor = uuid.uuid4()
    for first in range(goals_from, goals_to + 1, GOALS_PER_STATEMENT):
        last = min(first + GOALS_PER_STATEMENT - 1, goals_to)
        await conn.execute(_FILL, first, last, actor, clinic, EVENTS_PER_GOAL)
        await conn.execute(_HEADS, first, last, str(clinic), EVENTS_PER_GOAL)
    await conn.execute("VACUUM ANALYZE events")
    await conn.execute("VACUUM ANALYZE streams")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _measure(
    conn: asyncpg.Connection,
    pool: asyncpg.Pool,
    key: Ed25519PrivateKey,
    arguments: argparse.Namespace,
) -> None:
    started = time.perf_counter()
    made = await make_checkpoint(conn, key)
    signed = time.perf_counter() - started
    assert made is not None
    print(f"checkpoint of {made.facts.events:,} events: {signed:.2f} s", flush=True)
    for walkers in arguments.walkers:
        seconds = []
        for _ in range(arguments.rounds):
            started = time.perf_counter()
            found = await verify_log(pool, None, key.public_key(), walkers=walkers)
            seconds.append(time.perf_counter() - started)
            if not found.intact:
                raise RuntimeError(f"the log did not verify: {found}")
        median = statistics.median(seconds)
        print(
            f"{found.events:>9,} events, {walkers} walkers: median {median:5.2f} s "
            f"({found.events / median:9,.0f} events/s), rounds {min(seconds):.2f}-"
            f"{max(seconds):.2f} s; peak RSS {_peak_mib():.0f} MiB",
            flush=True,
        )


async def main(arguments: argparse.Namespace) -> None:
    server = os.environ.get("DATABASE_URL", DEFAULT_SERVER_URL)
    url = url_for_database(server, f"goals_bench_{secrets.token_hex(4)}")
    await create_database_if_missing(url)
    clinic = uuid.uuid4()
    key = Ed25519PrivateKey.generate()
    try:
        conn = await asyncpg.connect(url)
        pool = await asyncpg.create_pool(url, min_size=1, max_size=max(arguments.walkers) + 1)
        try:
            await migrate(conn)
            small_goals = arguments.small // EVENTS_PER_GOAL
            started = time.perf_counter()
            await _fill(conn, 1, small_goals, clinic)
            print(
                f"filled {arguments.small:,} in {time.perf_counter() - started:.1f} s", flush=True
            )
            await _measure(conn, pool, key, arguments)
            started = time.perf_counter()
            await _fill(conn, small_goals + 1, arguments.events // EVENTS_PER_GOAL, clinic)
            print(
                f"filled {arguments.events:,} in {time.perf_counter() - started:.1f} s", flush=True
            )
            await _measure(conn, pool, key, arguments)
        finally:
            await pool.close()
            await conn.close()
    finally:
        await drop_database(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--walkers",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[WALKERS],
        help="connections that walk the chains, separated by commas: each is measured",
    )
    asyncio.run(main(parser.parse_args()))
