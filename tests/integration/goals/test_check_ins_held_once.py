"""The log, not a fold, holds a check-in id once per goal and a check-in's correction once
(migration 0008): every way in refuses a second one, whatever the writer folded."""

import uuid
from uuid import UUID

import pytest

from domain.goals.commands import Actor
from domain.goals.events import CorrectionRecorded, GoalEvent, ProgressRecorded
from infra.db.connection import Connection
from infra.eventstore.envelope import NewEvent
from infra.eventstore.store import DuplicateFact, PendingAppend, append, append_batch
from infra.goals import codec
from infra.goals.check_ins import CHECK_IN_ONCE, on_record
from infra.goals.check_ins_at_once import read_and_append
from infra.goals.streams import goal_stream
from tests.integration.goals.clinics import METADATA, ClinicWorld, new_goal
from tests.integration.goals.test_check_ins_at_once import _attempt
from tests.integration.projections.goals import NOW


def _new(event: GoalEvent) -> NewEvent:
    return NewEvent(uuid.uuid4(), codec.event_type(event), codec.encode_event(event), METADATA)


async def _version(conn: Connection, goal_id: UUID) -> int:
    found = await conn.fetchval(
        "SELECT version FROM streams WHERE stream_id = $1", goal_stream(goal_id)
    )
    return int(found)


async def _goal(conn: Connection, world: ClinicWorld) -> UUID:
    therapist = world.therapist.user
    return await new_goal(conn, world.client.user.id, Actor(therapist.id, "therapist"), 0)


async def test_a_check_in_id_goes_into_a_goal_once_and_into_another_goal_too(
    conn: Connection, north: ClinicWorld
) -> None:
    goal_id, other_goal_id = await _goal(conn, north), await _goal(conn, north)
    check_in_id = uuid.uuid4()
    await append(
        conn,
        goal_stream(goal_id),
        1,
        [_new(ProgressRecorded(goal_id, check_in_id, 1, NOW))],
    )

    with pytest.raises(DuplicateFact) as refused:
        await append(
            conn,
            goal_stream(goal_id),
            2,
            [_new(ProgressRecorded(goal_id, check_in_id, 2, NOW))],
        )
    assert refused.value.constraint == CHECK_IN_ONCE
    assert await _version(conn, goal_id) == 2
    # Ids are the client's: the same one on another goal is another check-in.
    await append(
        conn,
        goal_stream(other_goal_id),
        1,
        [_new(ProgressRecorded(other_goal_id, check_in_id, 1, NOW))],
    )


async def test_a_check_in_is_corrected_once_in_a_batch_too(
    conn: Connection, north: ClinicWorld
) -> None:
    goal_id, other_goal_id = await _goal(conn, north), await _goal(conn, north)
    check_in_id = uuid.uuid4()
    correction = CorrectionRecorded(goal_id, "check_in", "Counted twice", check_in_id)
    recorded = ProgressRecorded(goal_id, check_in_id, 1, NOW)
    await append(conn, goal_stream(goal_id), 1, [_new(recorded), _new(correction)])

    results = await append_batch(
        conn,
        [
            PendingAppend(goal_stream(goal_id), 3, [_new(correction)]),
            PendingAppend(
                goal_stream(other_goal_id),
                1,
                [_new(ProgressRecorded(other_goal_id, uuid.uuid4(), 1, NOW))],
            ),
        ],
    )

    assert isinstance(results[0], DuplicateFact)
    assert not isinstance(results[1], Exception)  # only the append at fault fails
    assert await _version(conn, goal_id) == 3
    found = await on_record(conn, goal_id, check_in_id)
    assert (found.recorded, found.corrected) == (True, True)


async def test_a_one_trip_check_in_whose_id_is_older_than_the_fold_appends_nothing(
    conn: Connection, north: ClinicWorld
) -> None:
    """The fold keeps no ids: the statement reads the log's index for the whole goal, and the
    other attempts of its batch still go in."""
    client = north.client
    recorded_id = uuid.uuid4()
    first = _attempt(client, north.goal_id, 3, check_in_id=recorded_id)
    (went_in,) = await read_and_append(conn, [first])
    assert went_in.appended is not None
    other_goal = await _goal(conn, north)
    fresh = _attempt(client, other_goal, 1)

    # Decided on the fold at version 4, which holds the check-in: only the log knows it.
    retried = _attempt(client, north.goal_id, 4, check_in_id=recorded_id)
    outcomes = await read_and_append(conn, [retried, fresh])

    assert outcomes[0].appended is None
    assert outcomes[1].appended is not None
    assert await _version(conn, north.goal_id) == 4
