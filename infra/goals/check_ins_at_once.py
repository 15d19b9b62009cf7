"""A check-in's read and append in one round trip.

The process decides a check-in on the goal as it last folded it (version v), for the caller it
last found for the token. One statement then reads what a goal request reads
(infra/goals/request_read.py) and appends the check-in at the goal's head, but only if what the
decision assumed still holds:

- the token is live and still proves that caller;
- the goal's client is of the caller's clinic, and the caller is that client or, when acting as
  one of the client's therapists, is still on the client's care team;
- every event after v is a check-in (domain/goals/commutation.py), so deciding again on the
  newer goal would give the same event;
- the goal holds no check-in of this id, at any version: the log's index on check-in ids
  (migration 0008), which this reads, is what keeps a check-in id once per goal, and reading it
  first spares the statement, and the other attempts in its batch, a unique violation.

The head moves only from the version the statement's snapshot saw, so a writer that got in
meanwhile makes it append nothing, as does any failed condition; the request then takes the usual
path, which reads and decides afresh. Nothing is ever appended on a guess that turned out wrong.

The heads are locked in the order of their stream ids before any moves, so that two batches
naming the same goals in other orders queue one behind the other instead of deadlocking.

Both looks at a goal's events after v (whether they commute, and what the request reads) stay
subqueries run attempt by attempt through the (stream_id, stream_version) index: an `OFFSET 0`
keeps PostgreSQL from turning them into joins with the whole log, which it may run over a
sequential scan of `events` at a cost that grows with the log (request_read.events_after).
"""

from functools import partial
from uuid import UUID

import asyncpg
import msgspec

from domain.goals.commutation import LEAVES_CHECK_IN_DECIDED
from infra.access.queries import live_token_holder
from infra.db.batches import one_per_key
from infra.db.connection import Connection
from infra.eventstore.envelope import AppendResult, NewEvent, StoredPosition
from infra.eventstore.store import (
    INSERT_EVENTS,
    heads_locked_in_order,
    metadata_json,
)
from infra.goals.request_read import (
    CLIENT_OF_GOAL,
    RequestKey,
    RequestRead,
    events_after,
    read_for_requests,
    reads_by_request,
)
from infra.goals.streams import goal_stream

_CHECK_IN_TYPE = str(LEAVES_CHECK_IN_DECIDED.__struct_config__.tag)

# One attempt per input row; the result rows have `_READ`'s columns (request_read.py), and the
# appended check-in's `appended_position` and `appended_version`, or nulls when it was not
# appended.
_READ_AND_APPEND = f"""
WITH attempt AS (
    SELECT r.*, h.id AS holder, h.clinic_id, h.role, h.token_id, client.id AS client,
        client.clinic_id AS client_clinic, client.therapists, head.version AS head_version
    FROM unnest($1::bytea[], $2::text[], $3::integer[], $4::uuid[], $5::boolean[], $6::text[],
        $7::uuid[], $8::text[], $9::text[])
        WITH ORDINALITY AS r (secret_hash, stream_id, after_version, assumed_holder,
            via_care_team, check_in_id, event_id, data, metadata, n)
    CROSS JOIN LATERAL ({live_token_holder("r.secret_hash")}) h
    LEFT JOIN LATERAL ({CLIENT_OF_GOAL}) client ON true
    LEFT JOIN streams head ON head.stream_id = r.stream_id
), {heads_locked_in_order("SELECT stream_id FROM attempt")}, moved AS (
    UPDATE streams s SET version = s.version + 1 FROM attempt a JOIN locked USING (stream_id)
    WHERE s.stream_id = a.stream_id AND s.version = a.head_version
        AND a.holder = a.assumed_holder
        AND CASE WHEN a.via_care_team
            THEN a.role = 'therapist' AND a.holder = ANY(a.therapists)
            ELSE a.holder = a.client END
        AND NOT EXISTS (
            SELECT FROM events e
            WHERE e.stream_id = a.stream_id AND e.stream_version > a.after_version
                AND e.event_type <> $10
            OFFSET 0  -- by the index, attempt by attempt (see the module's docstring)
        )
        AND NOT EXISTS (
            SELECT FROM events e
            WHERE e.stream_id = a.stream_id AND e.data ->> 'check_in_id' = a.check_in_id
                AND e.event_type = '{_CHECK_IN_TYPE}'
            OFFSET 0
        )
    RETURNING s.stream_id, s.version
), appended AS (
    {INSERT_EVENTS}
    SELECT a.stream_id, m.version, a.event_id, $10, a.data::jsonb, a.metadata::jsonb
    FROM attempt a JOIN moved m USING (stream_id)
    ORDER BY a.n
    RETURNING stream_id, position, stream_version
)
SELECT e.*, a.holder, a.clinic_id, a.role, a.token_id, a.client, a.client_clinic, a.therapists,
    a.n AS request, p.position AS appended_position, p.stream_version AS appended_version
FROM attempt a
LEFT JOIN LATERAL {events_after("a.stream_id", "a.after_version", "a.client IS NOT NULL")} e ON true
LEFT JOIN appended p ON p.stream_id = a.stream_id
ORDER BY a.n, e.stream_version
"""  # noqa: S608 - constant fragments


class CheckInAttempt(msgspec.Struct, frozen=True):
    key: RequestKey
    """The token, the goal, and the version its check-in was decided on."""
    assumed_holder: UUID
    """The caller the check-in was decided for."""
    via_care_team: bool
    """Whether the caller may write as one of the client's therapists (else as the client)."""
    check_in_id: UUID
    event: NewEvent
    """The check-in, of type `LEAVES_CHECK_IN_DECIDED`."""


class AttemptOutcome(msgspec.Struct, frozen=True):
    read: RequestRead
    """What the goal request would have read: the goal's events up to the check-in's."""
    appended: AppendResult | None
    """None: nothing was appended, and the request must go the usual way."""


async def read_and_append(conn: Connection, attempts: list[CheckInAttempt]) -> list[AttemptOutcome]:
    """Each attempt's outcome, in order. A goal's second attempt in the batch goes in a second
    statement, after the first one's append; if a statement fails, its attempts append nothing."""
    return await one_per_key(attempts, _goal_of, partial(_round, conn))


def _goal_of(attempt: CheckInAttempt) -> UUID:
    return attempt.key.goal_id


async def _round(conn: Connection, attempts: list[CheckInAttempt]) -> list[AttemptOutcome]:
    try:
        return await _together(conn, attempts)
    except asyncpg.PostgresError:  # a check-in id taken meanwhile, say: plain reads instead
        reads = await read_for_requests(conn, [attempt.key for attempt in attempts])
        return [AttemptOutcome(read, None) for read in reads]


async def _together(conn: Connection, attempts: list[CheckInAttempt]) -> list[AttemptOutcome]:
    if any(attempt.event.event_type != _CHECK_IN_TYPE for attempt in attempts):
        raise ValueError(f"only {_CHECK_IN_TYPE} events are appended this way")
    rows = await conn.fetch(
        _READ_AND_APPEND,
        [attempt.key.secret_hash for attempt in attempts],
        [goal_stream(attempt.key.goal_id) for attempt in attempts],
        [attempt.key.after_version for attempt in attempts],
        [attempt.assumed_holder for attempt in attempts],
        [attempt.via_care_team for attempt in attempts],
        [str(attempt.check_in_id) for attempt in attempts],
        [attempt.event.event_id for attempt in attempts],
        [attempt.event.data for attempt in attempts],
        [metadata_json(attempt.event.metadata) for attempt in attempts],
        _CHECK_IN_TYPE,
    )
    return [
        AttemptOutcome(read, _appended(first))
        for read, first in reads_by_request(rows, len(attempts))
    ]


def _appended(row: asyncpg.Record | None) -> AppendResult | None:
    if row is None or row["appended_position"] is None:
        return None
    return AppendResult((StoredPosition(row["appended_position"], row["appended_version"]),))
