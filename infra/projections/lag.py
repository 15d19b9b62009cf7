"""How far behind the log each consumer is, in events and in seconds."""

import msgspec

from infra.db.connection import Connection
from infra.goals.streams import goal_id_sql, is_goal_stream_sql
from infra.projections.feed import RELAY, read_checkpoint


class ConsumerLag(msgspec.Struct, frozen=True):
    consumer: str
    events: int
    seconds: float
    """Age of the oldest event the consumer has not handled yet; 0 when it is caught up."""


class ProjectionCounts(msgspec.Struct, frozen=True):
    applied: int
    failed: int


async def relay_lag(conn: Connection) -> ConsumerLag:
    checkpoint = await read_checkpoint(conn, RELAY)
    (row,) = await conn.fetch(
        """
        SELECT count(*) AS events, extract(epoch FROM now() - min(recorded_at)) AS age
        FROM events WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
        """,
        checkpoint.transaction_id,
        checkpoint.position,
    )
    return ConsumerLag(RELAY, int(row["events"]), float(row["age"] or 0))


async def projection_lag(conn: Connection) -> ConsumerLag:
    (row,) = await conn.fetch(
        f"""
        SELECT coalesce(sum(s.version - coalesce(p.version, 0)), 0) AS events,
               extract(epoch FROM now() - min(e.recorded_at)) AS age
        FROM streams s
        LEFT JOIN goal_summaries p ON p.goal_id = {goal_id_sql("s.stream_id")}
        JOIN events e ON e.stream_id = s.stream_id
            AND e.stream_version = coalesce(p.version, 0) + 1
        WHERE {is_goal_stream_sql("s.stream_id")} AND s.version > coalesce(p.version, 0)
        """  # noqa: S608 - constant fragments
    )
    return ConsumerLag("goal_summaries", int(row["events"]), float(row["age"] or 0))


async def projection_counts(conn: Connection) -> ProjectionCounts:
    (row,) = await conn.fetch(
        """
        SELECT (SELECT coalesce(sum(version), 0) FROM goal_summaries) AS applied,
               (SELECT count(*) FROM projection_dead_letters) AS failed
        """
    )
    return ProjectionCounts(int(row["applied"]), int(row["failed"]))
