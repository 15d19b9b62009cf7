"""Finding goals in the log: by client, several streams at once."""

from uuid import UUID

from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.eventstore.store import read_streams
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
