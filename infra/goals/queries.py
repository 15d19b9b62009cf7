"""Finding goals in the log: by client, several streams at once."""

from uuid import UUID

from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.eventstore.store import EVENT_COLUMNS, read_streams, recorded_event
from infra.goals.streams import goal_stream


async def goal_ids_of_client(conn: Connection, client_id: UUID) -> list[UUID]:
    rows = await conn.fetch(
        """
        SELECT (data ->> 'goal_id')::uuid AS goal_id FROM events
        WHERE event_type = 'goal_set' AND data ->> 'client_id' = $1::text
        ORDER BY position
        """,
        str(client_id),
    )
    return [row["goal_id"] for row in rows]


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


async def corrections_of(
    conn: Connection, goal_id: UUID, check_in_ids: list[UUID]
) -> list[RecordedEvent]:
    """The goal's corrections of the whole goal or of one of `check_in_ids`, oldest first: at
    most one per check-in and one for the goal, as the rules allow no second correction."""
    rows = await conn.fetch(
        f"SELECT {EVENT_COLUMNS} FROM events "  # noqa: S608
        "WHERE stream_id = $1 AND event_type = 'correction_recorded' "
        "AND (data ->> 'scope' = 'goal' OR data ->> 'check_in_id' = ANY($2::text[])) "
        "ORDER BY stream_version",
        goal_stream(goal_id),
        [str(check_in_id) for check_in_id in check_in_ids],
    )
    return [recorded_event(row) for row in rows]
