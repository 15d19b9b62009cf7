"""What the FHIR routes read beyond a goal request's own read: a page of a client's goals, the
goals on it folded on from what this process holds, and each goal's record (its version, dates
and who set it: domain/goals/record.py).

A record is read from a handful of envelopes, not the whole stream: the goal's first event, its
event at the version the goal was folded to, and the events between that may change its status.
The record of those is the record of the whole history (tests/unit/goals/test_goal_record.py),
so a goal with a thousand check-ins costs no more here than one with none.
"""

from uuid import UUID

import msgspec

from domain.goals.record import STATUS_EVENT_TYPES, GoalRecord, Stamp, goal_record
from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.eventstore.store import EVENT_COLUMNS, recorded_event
from infra.goals import codec
from infra.goals.folds import FoldedGoal, GoalFolds
from infra.goals.streams import goal_stream


class ClientGoalPage(msgspec.Struct, frozen=True):
    total: int
    """All the client's goals, on this page and off it."""
    goals: list[tuple[UUID, int]]
    """(goal id, position of the event that set it), oldest first."""


# The client's goals in the order they were set; a page starts after a position, so that goals
# set while a reader pages on come at the end, and none is skipped or shown twice.
_PAGE = """
WITH set_goals AS (
    SELECT (data ->> 'goal_id')::uuid AS goal_id, position FROM events
    WHERE event_type = 'goal_set' AND data ->> 'client_id' = $1::text
)
SELECT counted.total, page.goal_id, page.position
FROM (SELECT count(*) AS total FROM set_goals) counted
LEFT JOIN LATERAL (
    SELECT goal_id, position FROM set_goals WHERE position > $2 ORDER BY position LIMIT $3
) page ON true
ORDER BY page.position
"""


async def client_goal_page(
    conn: Connection, client_id: UUID, after_position: int, limit: int
) -> ClientGoalPage:
    rows = await conn.fetch(_PAGE, str(client_id), after_position, limit)
    goals = [(row["goal_id"], row["position"]) for row in rows if row["goal_id"] is not None]
    return ClientGoalPage(rows[0]["total"], goals)


async def folded_goals(
    conn: Connection, folds: GoalFolds, goal_ids: list[UUID]
) -> dict[UUID, FoldedGoal]:
    """The goals as committed now, each read from the version this process has folded it to,
    all in one round trip; a goal with no events is left out."""
    bases = {goal_id: folds.cached(goal_id) for goal_id in goal_ids}
    rows = await conn.fetch(
        f"""
        SELECT {EVENT_COLUMNS} FROM unnest($1::text[], $2::integer[]) AS r (wanted, from_version)
        JOIN events e ON e.stream_id = r.wanted AND e.stream_version > r.from_version
        ORDER BY e.stream_id, e.stream_version
        """,  # noqa: S608 - constant fragments
        [goal_stream(goal_id) for goal_id in goal_ids],
        [base.version if base else 0 for base in bases.values()],
    )
    newer: dict[str, list[RecordedEvent]] = {}
    for row in rows:
        newer.setdefault(row["stream_id"], []).append(recorded_event(row))
    found = {}
    for goal_id, base in bases.items():
        folded = folds.advanced(goal_id, base, newer.get(goal_stream(goal_id), []))
        if folded is not None:
            found[goal_id] = folded
    return found


async def goal_records(conn: Connection, versions: dict[UUID, int]) -> dict[UUID, GoalRecord]:
    """Each goal's record as of the version given for it."""
    rows = await conn.fetch(
        f"""
        SELECT {EVENT_COLUMNS} FROM unnest($1::text[], $2::integer[]) AS r (wanted, upto_version)
        JOIN events e ON e.stream_id = r.wanted AND e.stream_version <= r.upto_version
            AND (e.stream_version IN (1, r.upto_version) OR e.event_type = ANY($3::text[]))
        ORDER BY e.stream_id, e.stream_version
        """,  # noqa: S608 - constant fragments
        [goal_stream(goal_id) for goal_id in versions],
        list(versions.values()),
        sorted(STATUS_EVENT_TYPES),
    )
    by_stream: dict[str, list[RecordedEvent]] = {}
    for row in rows:
        by_stream.setdefault(row["stream_id"], []).append(recorded_event(row))
    records = {}
    for goal_id in versions:
        record = goal_record(
            (codec.decode_event(event), stamp_of(event))
            for event in by_stream.get(goal_stream(goal_id), [])
        )
        if record is not None:
            records[goal_id] = record
    return records


def stamp_of(event: RecordedEvent) -> Stamp:
    """What a goal's record needs of an event's envelope."""
    metadata = event.metadata
    return Stamp(event.stream_version, event.recorded_at, metadata.actor_id, metadata.actor_role)
