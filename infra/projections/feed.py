"""Handing the log to the workers: the relay follows the feed, the reconciler finds lost work.

Neither is trusted to be the only path: the relay's message can be lost in Redis after its
checkpoint moved on, and the reconciler then finds the goal behind its stream and asks again.
Applying twice is harmless (see goal_summaries.project_goal). The relay reads the feed once for
every consumer; the reconciler asks each consumer for the goals it is behind on.
"""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from uuid import UUID

from infra.db.connection import Connection
from infra.eventstore.envelope import FeedCheckpoint
from infra.eventstore.store import checkpoint_of, read_all
from infra.goals.streams import goal_id_sql, goal_of_stream, is_goal_stream_sql
from infra.projections.consumer import Consumer
from infra.projections.goal_summaries import LIVE, ProjectionTables

RELAY = "relay"
# Any constant works; it only keeps two relays from moving the same checkpoint at once.
_RELAY_LOCK = 7_140_002

Enqueue = Callable[[list[UUID]], Awaitable[None]]


async def read_checkpoint(conn: Connection, consumer: str) -> FeedCheckpoint:
    row = await conn.fetchrow(
        "SELECT transaction_id, position FROM consumer_checkpoints WHERE consumer = $1", consumer
    )
    return (
        FeedCheckpoint() if row is None else FeedCheckpoint(row["transaction_id"], row["position"])
    )


async def save_checkpoint(conn: Connection, consumer: str, checkpoint: FeedCheckpoint) -> None:
    await conn.execute(
        """
        INSERT INTO consumer_checkpoints (consumer, transaction_id, position, updated_at)
        VALUES ($1, $2, $3, now())
        ON CONFLICT (consumer) DO UPDATE SET transaction_id = EXCLUDED.transaction_id,
            position = EXCLUDED.position, updated_at = now()
        """,
        consumer,
        checkpoint.transaction_id,
        checkpoint.position,
    )


async def relay_batch(conn: Connection, enqueue: Enqueue, limit: int = 1000) -> int:
    """Enqueues the goals touched by the next events of the feed; returns how many events.

    The checkpoint moves only after the enqueue succeeded, in the same transaction: a crash in
    between enqueues the same goals again, which costs nothing.
    """
    async with conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _RELAY_LOCK):
            return 0
        events = await read_all(conn, await read_checkpoint(conn, RELAY), limit)
        if not events:
            return 0
        goal_ids = list(
            dict.fromkeys(
                goal_id
                for event in events
                if (goal_id := goal_of_stream(event.stream_id)) is not None
            )
        )
        if goal_ids:
            await enqueue(goal_ids)
        await save_checkpoint(conn, RELAY, checkpoint_of(events[-1]))
        return len(events)


async def lagging_goals(
    conn: Connection,
    older_than: timedelta,
    limit: int | None = 1000,
    tables: ProjectionTables = LIVE,
) -> list[UUID]:
    """Goals whose summaries, in `tables`, are behind their streams (see `goals_behind`)."""
    return await goals_behind(conn, tables.summaries, tables.dead_letters, older_than, limit)


async def lagging(
    conn: Connection, consumer: Consumer, older_than: timedelta, limit: int | None = 1000
) -> list[UUID]:
    """Goals that `consumer` is behind on (see `goals_behind`)."""
    return await goals_behind(conn, consumer.progress, consumer.dead_letters, older_than, limit)


async def goals_behind(
    conn: Connection,
    progress: str,
    dead_letters: str,
    older_than: timedelta,
    limit: int | None,
) -> list[UUID]:
    """Goals whose oldest event not yet in `progress` is older than `older_than`; stalled
    goals wait for an operator and are left out. Ages count from when the query runs, not from
    when its transaction began: a rebuild's switch asks in a transaction older than the events
    it must catch up."""
    rows = await conn.fetch(
        f"""
        SELECT g.goal_id FROM (
            SELECT {goal_id_sql("s.stream_id")} AS goal_id, s.stream_id, s.version
            FROM streams s WHERE {is_goal_stream_sql("s.stream_id")}
        ) g
        LEFT JOIN {progress} p ON p.goal_id = g.goal_id
        JOIN events e ON e.stream_id = g.stream_id
            AND e.stream_version = coalesce(p.version, 0) + 1
        WHERE g.version > coalesce(p.version, 0)
          AND p.stalled_at_version IS NULL
          AND e.recorded_at <= statement_timestamp() - $1::interval
          AND NOT EXISTS (SELECT FROM {dead_letters} d WHERE d.goal_id = g.goal_id)
        LIMIT $2
        """,  # noqa: S608 - declared relations, not input
        older_than,
        limit,
    )
    return [row["goal_id"] for row in rows]
