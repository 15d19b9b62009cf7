"""What a request on one goal needs to know, in one round trip: who holds the token, the goal's
client and care team (if the client is of the holder's clinic), and the goal's events after the
version the process has already folded.

Every goal request needs all three before it can decide anything, and on a check-in the round
trips, not the work in them, are most of the cost.
"""

from uuid import UUID

import asyncpg
import msgspec

from domain.access.policy import Caller
from infra.access.queries import live_token_holder
from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.eventstore.store import EVENT_COLUMNS, recorded_event
from infra.goals.streams import goal_stream

# The goal's client, with their clinic and care team, if the client is of the holder's clinic:
# `r.stream_id` names the goal's stream and `h` is the token's holder. The clinic is read from the
# client's row, not taken from the holder, so that the access policy checks it a second time.
CLIENT_OF_GOAL = """
    SELECT c.id, c.clinic_id,
        array(SELECT therapist_id FROM care_team WHERE client_id = c.id) AS therapists
    FROM users c
    WHERE c.clinic_id = h.clinic_id AND c.role = 'client' AND c.id = (
        SELECT (data ->> 'client_id')::uuid FROM events
        WHERE stream_id = r.stream_id AND stream_version = 1
    )
"""

# One request per input row ($1 hashes, $2 streams, $3 versions, in step). Its rows: one per event
# after its version (event columns first), or one with no event; none when the token is not live.
# Another clinic's goal, or none, leaves the client and the events empty.
_READ = f"""
SELECT e.*, h.id, h.clinic_id, h.role, h.token_id, client.id, client.clinic_id,
    client.therapists, r.n
FROM unnest($1::bytea[], $2::text[], $3::integer[]) WITH ORDINALITY
    AS r (secret_hash, stream_id, after_version, n)
CROSS JOIN LATERAL ({live_token_holder("r.secret_hash")}) h
LEFT JOIN LATERAL ({CLIENT_OF_GOAL}) client ON true
LEFT JOIN LATERAL (
    SELECT {EVENT_COLUMNS} FROM events
    WHERE stream_id = r.stream_id AND stream_version > r.after_version AND client.id IS NOT NULL
) e ON true
ORDER BY r.n, e.stream_version
"""  # noqa: S608 - constant fragments
_CALLER = 9  # the first column after the event's
REQUEST_COLUMN = _CALLER + 7
"""Which input row a result row answers (from 1); a query may add columns after it."""


class GoalClient(msgspec.Struct, frozen=True):
    client_id: UUID
    clinic_id: UUID
    therapists: frozenset[UUID]


class RequestRead(msgspec.Struct, frozen=True):
    caller: Caller | None
    """None: the token is unknown, expired or revoked (and nothing else was read)."""
    client: GoalClient | None
    """None: no such goal, or its client is not of the caller's clinic."""
    newer: list[RecordedEvent]


class RequestKey(msgspec.Struct, frozen=True):
    secret_hash: bytes
    goal_id: UUID
    after_version: int
    """The version this process has folded the goal to: only later events are read."""


async def read_for_request(conn: Connection, key: RequestKey) -> RequestRead:
    (read,) = await read_for_requests(conn, [key])
    return read


async def read_for_requests(conn: Connection, keys: list[RequestKey]) -> list[RequestRead]:
    """What each request needs, in the order of `keys`, in one round trip for all of them."""
    rows = await conn.fetch(
        _READ,
        [key.secret_hash for key in keys],
        [goal_stream(key.goal_id) for key in keys],
        [key.after_version for key in keys],
    )
    return [read for read, _ in reads_by_request(rows, len(keys))]


def reads_by_request(
    rows: list[asyncpg.Record], requests: int
) -> list[tuple[RequestRead, asyncpg.Record | None]]:
    """Each request's read from rows shaped as `_READ`'s, with its first row (None if none)."""
    by_request: dict[int, list[asyncpg.Record]] = {}
    for row in rows:
        by_request.setdefault(row[REQUEST_COLUMN], []).append(row)
    found = [by_request.get(n, []) for n in range(1, requests + 1)]
    return [(_request_read(answer), answer[0] if answer else None) for answer in found]


def _request_read(rows: list[asyncpg.Record]) -> RequestRead:
    if not rows:
        return RequestRead(None, None, [])
    first = rows[0]
    caller = Caller(first[_CALLER], first[_CALLER + 1], first[_CALLER + 2], first[_CALLER + 3])
    if first[_CALLER + 4] is None:
        return RequestRead(caller, None, [])
    client = GoalClient(first[_CALLER + 4], first[_CALLER + 5], frozenset(first[_CALLER + 6]))
    newer = [recorded_event(row) for row in rows if row[0] is not None]
    return RequestRead(caller, client, newer)
