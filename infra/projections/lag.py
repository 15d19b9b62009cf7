"""How far behind the log each consumer is, in events and in seconds."""

import msgspec

from infra.db.connection import Connection
from infra.goals.streams import goal_id_sql, is_goal_stream_sql
from infra.projections.consumer import Consumer
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
    return await feed_lag(conn, RELAY)


async def feed_lag(conn: Connection, name: str) -> ConsumerLag:
    """How far behind the feed a reader with a checkpoint of its own is: the relay, or a feed
    consumer (infra/projections/feed_consumer.py)."""
    checkpoint = await read_checkpoint(conn, name)
    (row,) = await conn.fetch(
        """
        SELECT count(*) AS events, extract(epoch FROM now() - min(recorded_at)) AS age
        FROM events WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
        """,
        checkpoint.transaction_id,
        checkpoint.position,
    )
    return ConsumerLag(name, int(row["events"]), float(row["age"] or 0))


async def consumer_lag(conn: Connection, consumer: Consumer) -> ConsumerLag:
    (row,) = await conn.fetch(
        f"""
        SELECT coalesce(sum(s.version - coalesce(p.version, 0)), 0) AS events,
               extract(epoch FROM now() - min(e.recorded_at)) AS age
        FROM streams s
        LEFT JOIN {consumer.progress} p ON p.goal_id = {goal_id_sql("s.stream_id")}
        JOIN events e ON e.stream_id = s.stream_id
            AND e.stream_version = coalesce(p.version, 0) + 1
        WHERE {is_goal_stream_sql("s.stream_id")} AND s.version > coalesce(p.version, 0)
        """  # noqa: S608 - a declared relation and constant fragments, not input
    )
    return ConsumerLag(consumer.name, int(row["events"]), float(row["age"] or 0))


async def consumer_counts(conn: Connection, consumer: Consumer) -> ProjectionCounts:
    (row,) = await conn.fetch(
        f"""
        SELECT (SELECT coalesce(sum(version), 0) FROM {consumer.progress} p) AS applied,
               (SELECT count(*) FROM {consumer.dead_letters} d) AS failed
        """  # noqa: S608 - declared relations, not input
    )
    return ProjectionCounts(int(row["applied"]), int(row["failed"]))
