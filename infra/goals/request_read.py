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


def events_after(stream_id: str, version: str, condition: str) -> str:
    """A subquery for `LEFT JOIN LATERAL`: the events (`EVENT_COLUMNS`) of the stream
    `stream_id` after `version`, both SQL expressions over the request's row, if the SQL
    condition `condition` holds.

    `OFFSET 0` keeps PostgreSQL from pulling the subquery up into a plain join of the requests
    with the whole `events` table. Pulled up, it is free to run that join as a hash join over a
    sequential scan of the log, and does so whenever its statistics make streams look long
    against the number of requests in the statement: on a log not yet analyzed, for instance, it
    takes a stream to hold 0.5 % of all events, and a statement of a few dozen requests then
    reads every event ever recorded, at a cost that grows with the log (docs/benchmarks.md).
    Kept apart, each request's events are read through the (stream_id, stream_version) index,
    whatever the statistics say.
    """
    return f"""(
    SELECT {EVENT_COLUMNS} FROM events
    WHERE stream_id = {stream_id} AND stream_version > {version} AND {condition}
    OFFSET 0
)"""  # noqa: S608 - the caller's constant expressions, never input


# One request per input row ($1 hashes, $2 streams, $3 versions, in step). Its rows: one per event
# after its version, or one with no event (null event columns); none when the token is not live.
# Another clinic's goal, or none, leaves the client and the events empty. Besides `EVENT_COLUMNS`
# each row names the token's `holder`, their `clinic_id` and `role`, the `token_id`, the goal's
# `client`, its clinic `client_clinic` and its `therapists`, and the input row it answers,
# `request` (from 1); a query that reads the same way may add columns of other names.
_READ = f"""
SELECT e.*, h.id AS holder, h.clinic_id, h.role, h.token_id, client.id AS client,
    client.clinic_id AS client_clinic, client.therapists, r.n AS request
FROM unnest($1::bytea[], $2::text[], $3::integer[]) WITH ORDINALITY
    AS r (secret_hash, stream_id, after_version, n)
CROSS JOIN LATERAL ({live_token_holder("r.secret_hash")}) h
LEFT JOIN LATERAL ({CLIENT_OF_GOAL}) client ON true
LEFT JOIN LATERAL {events_after("r.stream_id", "r.after_version", "client.id IS NOT NULL")} e
    ON true
ORDER BY r.n, e.stream_version
"""  # noqa: S608 - constant fragments


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
    """Each request's read from rows with `_READ`'s columns, with its first row (None if none)."""
    by_request: dict[int, list[asyncpg.Record]] = {}
    for row in rows:
        by_request.setdefault(row["request"], []).append(row)
    found = [by_request.get(n, []) for n in range(1, requests + 1)]
    return [(_request_read(answer), answer[0] if answer else None) for answer in found]


def _request_read(rows: list[asyncpg.Record]) -> RequestRead:
    if not rows:
        return RequestRead(None, None, [])
    first = rows[0]
    caller = Caller(first["holder"], first["clinic_id"], first["role"], first["token_id"])
    if first["client"] is None:
        return RequestRead(caller, None, [])
    client = GoalClient(first["client"], first["client_clinic"], frozenset(first["therapists"]))
    newer = [recorded_event(row) for row in rows if row["event_id"] is not None]
    return RequestRead(caller, client, newer)
