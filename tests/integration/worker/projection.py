"""What the tests check and wait for in PostgreSQL and Redis while worker services run."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg
import redis

from infra.db.connection import Connection
from infra.eventstore.envelope import FeedCheckpoint
from infra.projections.feed import RELAY, read_checkpoint
from infra.projections.rebuild import needs_rebuild
from tests.integration.worker.processes import WorkerService
from tests.waiting import wait_until

# Every goal stream whose summary is not at the stream's version and last event, or whose
# check-in rows do not number its progress_recorded events: a gap, or something applied twice.
_GAPS = """
WITH goals AS (
    SELECT substr(stream_id, 6)::uuid AS goal_id, stream_id, version
    FROM streams WHERE stream_id LIKE 'goal-%'
), logged AS (
    SELECT stream_id, max(position) AS last_position,
        count(*) FILTER (WHERE event_type = 'progress_recorded') AS check_ins
    FROM events WHERE stream_id LIKE 'goal-%' GROUP BY stream_id
), projected AS (
    SELECT goal_id, count(*) AS check_ins FROM goal_check_ins GROUP BY goal_id
)
SELECT g.goal_id, g.version AS stream_version, s.version AS summary_version,
    l.last_position AS logged_position, s.last_position AS summary_position,
    l.check_ins AS logged_check_ins, coalesce(p.check_ins, 0) AS projected_check_ins
FROM goals g
JOIN logged l USING (stream_id)
LEFT JOIN goal_summaries s USING (goal_id)
LEFT JOIN projected p USING (goal_id)
WHERE s.version IS DISTINCT FROM g.version
   OR s.last_position IS DISTINCT FROM l.last_position
   OR coalesce(p.check_ins, 0) <> l.check_ins
ORDER BY g.goal_id
"""

# Check-in rows with no progress_recorded event behind them would be counted by no goal above.
_ORPHAN_CHECK_INS = """
SELECT c.check_in_id FROM goal_check_ins c
WHERE NOT EXISTS (
    SELECT FROM events e
    WHERE e.event_type = 'progress_recorded' AND e.stream_id = 'goal-' || c.goal_id
      AND (e.data ->> 'check_in_id')::uuid = c.check_in_id
)
"""


async def projection_gaps(conn: Connection | asyncpg.Pool) -> list[str]:
    """Each way the projection differs from the log, described; empty once it has converged."""
    gaps = [
        f"goal {row['goal_id']}: stream v{row['stream_version']} at {row['logged_position']} "
        f"with {row['logged_check_ins']} check-ins, summary v{row['summary_version']} at "
        f"{row['summary_position']} with {row['projected_check_ins']}"
        for row in await conn.fetch(_GAPS)
    ]
    gaps += [f"check-in {row[0]} has no event" for row in await conn.fetch(_ORPHAN_CHECK_INS)]
    dead = await conn.fetchval("SELECT count(*) FROM projection_dead_letters")
    if dead:
        gaps.append(f"{dead} events dead-lettered")
    return gaps


async def goal_stream_count(conn: Connection | asyncpg.Pool) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM streams WHERE stream_id LIKE 'goal-%'")
    return count


async def projected_check_in_count(conn: Connection | asyncpg.Pool) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM goal_check_ins")
    return count


async def relay_checkpoint(pool: asyncpg.Pool) -> FeedCheckpoint:
    async with pool.acquire() as conn:
        return await read_checkpoint(conn, RELAY)


async def feed_head(conn: Connection | asyncpg.Pool) -> FeedCheckpoint:
    """Where the relay's checkpoint stands once it has read every event in the log."""
    row = await conn.fetchrow(
        "SELECT transaction_id, position FROM events "
        "ORDER BY transaction_id DESC, position DESC LIMIT 1"
    )
    return FeedCheckpoint() if row is None else FeedCheckpoint(row[0], row[1])


async def projected_goal_ids(conn: Connection | asyncpg.Pool) -> set[UUID]:
    return {row[0] for row in await conn.fetch("SELECT goal_id FROM goal_summaries")}


def messages_held_by_departed_workers(redis_url: str, namespace: str) -> int:
    """Messages in the acknowledgement sets of workers, once none runs: a killed worker's.

    A worker that shuts down cleanly hands its unfinished messages back; one killed keeps them
    until Redis deems it dead, far longer than any test waits.
    """
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return sum(
            int(client.scard(key)) for key in client.scan_iter(match=f"{namespace}:__acks__.*")
        )
    finally:
        client.close()


def outstanding_messages(redis_url: str, namespace: str) -> int:
    """Messages Dramatiq holds in Redis under `namespace`, queued, delayed or being worked on.

    Dramatiq keeps each message in its queue's `.msgs` hash from enqueue until it is
    acknowledged; the `.XQ.msgs` hashes hold dead messages, which no worker will take.
    """
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return sum(
            int(client.hlen(key))
            for key in client.scan_iter(match=f"{namespace}:*.msgs")
            if not key.endswith(".XQ.msgs")
        )
    finally:
        client.close()


class ProjectionLocks:
    """Holds goals' projection locks, so that workers projecting those goals wait mid-projection.

    The key is the one `goal_summaries.project_goal` locks a goal with; holding it from a
    session lets a test freeze workers inside their projection transactions, then free them.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def hold(self, goal_ids: list[UUID]) -> None:
        for goal_id in goal_ids:
            await self._conn.execute(
                "SELECT pg_advisory_lock(hashtextextended($1, 7))", str(goal_id)
            )

    async def release(self) -> None:
        await self._conn.execute("SELECT pg_advisory_unlock_all()")

    async def waiting_projections(self) -> int:
        """Sessions of this database waiting for an advisory lock: workers stuck on ours."""
        count: int = await self._conn.fetchval(
            """
            SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND NOT l.granted AND a.datname = current_database()
            """
        )
        return count


@asynccontextmanager
async def projection_locks(pool: asyncpg.Pool) -> AsyncIterator[ProjectionLocks]:
    async with pool.acquire() as conn:
        locks = ProjectionLocks(conn)
        try:
            yield locks
        finally:
            await locks.release()


async def wait_for_service(service: WorkerService, pool: asyncpg.Pool, within: float) -> bool:
    """Polls until the service's workers consume and its relay is past its start-up rebuild.

    Until then, events may reach the projection through that rebuild instead of the workers.
    """

    async def ready() -> bool:
        async with pool.acquire() as conn:
            return service.workers_ready() and not await needs_rebuild(conn)

    return await wait_until(ready, within)


async def wait_for_relay(
    pool: asyncpg.Pool, within: float
) -> tuple[FeedCheckpoint, FeedCheckpoint]:
    """Polls until the relay's checkpoint reached the end of the log; both, when it stopped."""

    async def relayed_everything() -> bool:
        return await relay_checkpoint(pool) == await feed_head(pool)

    await wait_until(relayed_everything, within)
    return await relay_checkpoint(pool), await feed_head(pool)


async def wait_for_convergence(pool: asyncpg.Pool, within: float) -> list[str]:
    """Polls until the projection has converged; the gaps left when the time ran out."""

    async def converged() -> bool:
        return not await projection_gaps(pool)

    await wait_until(converged, within)
    return await projection_gaps(pool)
