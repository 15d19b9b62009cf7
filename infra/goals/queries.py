"""Finding goals in the log: by client, several streams at once."""

from uuid import UUID

from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.eventstore.store import EVENT_COLUMNS, read_streams, recorded_event
from infra.goals.streams import goal_stream


async def goal_ids_of_client(conn: Connection, client_id: UUID) -> list[UUID]:
    rows = await conn.fetch(
        """
        SELECT (data ->> 'goal_id')::uuid FROM events
        WHERE event_type = 'goal_set' AND data ->> 'client_id' = $1::text
        ORDER BY position
        """,
        str(client_id),
    )
    return [row[0] for row in rows]


async def read_goal_streams(
    conn: Connection, goal_ids: list[UUID]
) -> dict[UUID, list[RecordedEvent]]:
    by_stream = await read_streams(conn, [goal_stream(goal_id) for goal_id in goal_ids])
    return {goal_id: by_stream.get(goal_stream(goal_id), []) for goal_id in goal_ids}


async def goal_events_page(
    conn: Connection, goal_id: UUID, after_version: int, limit: int
) -> list[RecordedEvent]:
    """At most `limit` of a goal's events, those after `after_version`, oldest first."""
    rows = await conn.fetch(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version > $2 "  # noqa: S608
        "ORDER BY stream_version LIMIT $3",
        goal_stream(goal_id),
        after_version,
        limit,
    )
    return [recorded_event(row) for row in rows]
