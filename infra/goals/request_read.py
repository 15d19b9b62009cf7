"""What a request on one goal needs to know, in one round trip: who holds the token, the goal's
client and care team (if the client is of the holder's clinic), and the goal's events after the
version the process has already folded.

Every goal request needs all three before it can decide anything, and on a check-in the round
trips, not the work in them, are most of the cost.
"""

from uuid import UUID

import msgspec

from domain.access.policy import Caller
from infra.access.queries import LIVE_TOKEN_HOLDER
from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.eventstore.store import EVENT_COLUMNS, recorded_event
from infra.goals.streams import goal_stream

# Rows: one per event after $3 (the event columns first), or one with no event; none at all when
# the token is not live. Another clinic's goal, or none, leaves the client and events empty.
_READ = f"""
WITH holder AS ({LIVE_TOKEN_HOLDER}),
client AS (
    SELECT c.id, array(SELECT therapist_id FROM care_team WHERE client_id = c.id) AS therapists
    FROM users c JOIN holder h ON c.clinic_id = h.clinic_id
    WHERE c.role = 'client' AND c.id = (
        SELECT (data ->> 'client_id')::uuid FROM events WHERE stream_id = $2 AND stream_version = 1
    )
)
SELECT e.*, h.id, h.clinic_id, h.role, client.id, client.therapists
FROM holder h
LEFT JOIN client ON true
LEFT JOIN LATERAL (
    SELECT {EVENT_COLUMNS} FROM events
    WHERE stream_id = $2 AND stream_version > $3 AND client.id IS NOT NULL
) e ON true
ORDER BY e.stream_version
"""  # noqa: S608 - constant fragments
_CALLER = 9  # the first column after the event's


class GoalClient(msgspec.Struct, frozen=True):
    client_id: UUID
    therapists: frozenset[UUID]


class RequestRead(msgspec.Struct, frozen=True):
    caller: Caller | None
    """None: the token is unknown, expired or revoked (and nothing else was read)."""
    client: GoalClient | None
    """None: no such goal, or its client is not of the caller's clinic."""
    newer: list[RecordedEvent]


async def read_for_request(
    conn: Connection, secret_hash: bytes, goal_id: UUID, after_version: int
) -> RequestRead:
    rows = await conn.fetch(_READ, secret_hash, goal_stream(goal_id), after_version)
    if not rows:
        return RequestRead(None, None, [])
    first = rows[0]
    caller = Caller(first[_CALLER], first[_CALLER + 1], first[_CALLER + 2])
    if first[_CALLER + 3] is None:
        return RequestRead(caller, None, [])
    client = GoalClient(first[_CALLER + 3], frozenset(first[_CALLER + 4]))
    newer = [recorded_event(row) for row in rows if row[0] is not None]
    return RequestRead(caller, client, newer)
