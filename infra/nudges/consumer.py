"""The nudges consumer: event-based nudges (a goal achieved, a streak reached, a goal missed),
found as the relay hands it each goal's new events, and stored in the transaction that keeps its
place (infra/projections/follow.py). It sends nothing itself: the delivery pass does, once a
minute, under quiet hours and the daily cap (infra/nudges/delivery.py).

A streak depends on every check-in before it, so the goal is folded from its first event each
time; the stored place says only which events are new.
"""

from uuid import UUID

from domain.goals.summary import EventFacts
from domain.nudges.goal_events import CareTeam, FoldedGoal, event_nudges, fold
from domain.nudges.nudge import Nudge
from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.eventstore.store import read_stream
from infra.goals import codec
from infra.goals.streams import goal_stream
from infra.nudges.stored import Origin, store
from infra.projections.follow import follower

NAME = "nudges"
VERSION = 1


def _facts(recorded: RecordedEvent) -> EventFacts:
    return EventFacts(
        recorded.stream_version,
        recorded.position,
        recorded.recorded_at,
        recorded.metadata.clinic_id,
    )


async def _care_team(conn: Connection, client_id: UUID) -> CareTeam | None:
    row = await conn.fetchrow(
        """
        SELECT u.clinic_id, array(SELECT therapist_id FROM care_team WHERE client_id = u.id
                                  ORDER BY therapist_id) AS therapists
        FROM users u WHERE u.id = $1
        """,
        client_id,
    )
    return None if row is None else CareTeam(row["clinic_id"], tuple(row["therapists"]))


async def _remind(conn: Connection, goal_id: UUID, events: list[RecordedEvent]) -> None:
    first_new = events[0].stream_version
    history = await read_stream(conn, goal_stream(goal_id), 0)
    goal: FoldedGoal | None = None
    for recorded in history:
        if recorded.stream_version >= first_new:
            break
        goal = fold(goal, codec.decode_event(recorded), _facts(recorded))
    found: list[Nudge] = []
    origins: list[Origin] = []
    care: CareTeam | None = None
    for recorded in events:
        event = codec.decode_event(recorded)
        after = fold(goal, event, _facts(recorded))
        if goal is not None:
            if care is None:
                care = await _care_team(conn, after.summary.client_id)
            if care is not None:
                for nudge in event_nudges(goal, after, event, recorded.recorded_at, care):
                    found.append(nudge)
                    origins.append(Origin(recorded.metadata.correlation_id, str(recorded.event_id)))
        goal = after
    if found:
        await store(conn, found, now=events[-1].recorded_at, origins=origins)


CONSUMER = follower(NAME, VERSION, (), _remind)
