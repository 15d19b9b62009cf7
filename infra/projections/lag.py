"""How far behind the log each consumer is, in events and in seconds."""

import msgspec

from infra.db.connection import Connection
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
    checkpoint = await read_checkpoint(conn, RELAY)
    (row,) = await conn.fetch(
        """
        SELECT count(*), extract(epoch FROM now() - min(recorded_at))
        FROM events WHERE (transaction_id, position) > ($1::xid8, $2::bigint)
        """,
        checkpoint.transaction_id,
        checkpoint.position,
    )
    return ConsumerLag(RELAY, int(row[0]), float(row[1] or 0))


async def consumer_lag(conn: Connection, consumer: Consumer) -> ConsumerLag:
    (row,) = await conn.fetch(
        f"""
        SELECT coalesce(sum(s.version - coalesce(p.version, 0)), 0),
               extract(epoch FROM now() - min(e.recorded_at))
        FROM streams s
        LEFT JOIN {consumer.progress} p ON p.goal_id = substr(s.stream_id, 6)::uuid
        JOIN events e ON e.stream_id = s.stream_id
            AND e.stream_version = coalesce(p.version, 0) + 1
        WHERE s.stream_id LIKE 'goal-%' AND s.version > coalesce(p.version, 0)
        """  # noqa: S608 - a declared relation, not input
    )
    return ConsumerLag(consumer.name, int(row[0]), float(row[1] or 0))


async def consumer_counts(conn: Connection, consumer: Consumer) -> ProjectionCounts:
    (row,) = await conn.fetch(
        f"""
        SELECT (SELECT coalesce(sum(version), 0) FROM {consumer.progress} p),
               (SELECT count(*) FROM {consumer.dead_letters} d)
        """  # noqa: S608 - declared relations, not input
    )
    return ProjectionCounts(int(row[0]), int(row[1]))
