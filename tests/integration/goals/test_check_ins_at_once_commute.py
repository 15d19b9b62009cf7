"""The one-trip check-in's statement lets a check-in past exactly the events that
`domain/goals/commutation.py` says leave its decision as it was, for every kind of goal event.

The statement reads the log's columns, the domain reads events: here both judge the same events,
so that neither can change without the other. A kind of event added to `GoalEvent` fails here
until it has examples below.
"""

import uuid
from typing import get_args
from uuid import UUID

import msgspec
import pytest

from domain.goals.commands import Actor, RecordProgress
from domain.goals.commutation import still_decided
from domain.goals.decider import decide
from domain.goals.events import (
    CorrectionRecorded,
    GoalAchieved,
    GoalAdjusted,
    GoalCancelled,
    GoalEvent,
    GoalMissed,
    GoalPaused,
    GoalRated,
    GoalResumed,
    GoalSet,
    ProgressRecorded,
    SupporterAdded,
    SupporterRemoved,
    TermsChange,
)
from infra.db.connection import Connection
from infra.eventstore import codec
from infra.eventstore.envelope import NewEvent
from infra.eventstore.store import append
from infra.goals.check_ins_at_once import CheckInAttempt, read_and_append
from infra.goals.handler import CommandContext, load_goal, new_events
from infra.goals.request_read import RequestKey
from infra.goals.streams import goal_stream
from tests.integration.goals.clinics import METADATA, ClinicWorld, new_goal
from tests.integration.projections.goals import NOW
from tests.unit.goals import builders

_FOLDED_VERSION = 3
"""The version a check-in is decided on: the goal set, then two check-ins."""


def _examples(check_in_id: UUID) -> dict[type[msgspec.Struct], list[GoalEvent]]:
    """Events of each kind that may come between the decision on check-in `check_in_id` and its
    append, including those about that very check-in."""
    other_check_in = builders.OTHER_CHECK_IN_ID
    return {
        GoalSet: [builders.goal_set()],
        GoalAdjusted: [
            GoalAdjusted(
                builders.GOAL_ID,
                TermsChange(priority="high"),
                TermsChange(priority="low"),
                "Less pressing now",
            )
        ],
        ProgressRecorded: [
            builders.progress_recorded(other_check_in),
            builders.progress_recorded(check_in_id),
        ],
        GoalAchieved: [builders.goal_achieved()],
        GoalMissed: [builders.goal_missed()],
        GoalPaused: [builders.goal_paused()],
        GoalResumed: [builders.goal_resumed()],
        GoalCancelled: [builders.goal_cancelled()],
        CorrectionRecorded: [
            builders.goal_corrected(),
            builders.check_in_corrected(other_check_in),
            builders.check_in_corrected(check_in_id),
        ],
        SupporterAdded: [builders.supporter_added()],
        SupporterRemoved: [SupporterRemoved(builders.GOAL_ID, builders.SUPPORTER_ID)],
        GoalRated: [builders.goal_rated()],
    }


def _tag(kind: type[msgspec.Struct]) -> str:
    return str(kind.__struct_config__.tag)


async def _check_in_decided_on_the_fold(
    conn: Connection, world: ClinicWorld, goal_id: UUID, check_in_id: UUID
) -> tuple[RecordProgress, CheckInAttempt]:
    """The client's check-in `check_in_id`, decided on the goal as it is now."""
    client = world.client
    actor = Actor(client.user.id, client.user.role)
    command = RecordProgress(goal_id, check_in_id, 2, NOW, actor, NOW)
    state, version = await load_goal(conn, goal_id)
    assert version == _FOLDED_VERSION
    context = CommandContext(uuid.uuid4(), client.user.clinic_id, "commute-test")
    (event,) = new_events(decide(command, state), command, context)
    attempt = CheckInAttempt(
        RequestKey(client.secret_hash, goal_id, _FOLDED_VERSION),
        assumed_holder=client.user.id,
        via_care_team=False,
        check_in_id=check_in_id,
        event=event,
    )
    return command, attempt


async def _append_raw(conn: Connection, goal_id: UUID, events: list[GoalEvent]) -> None:
    """Appends `events` as they are: events are facts, whatever a decider would say of them."""
    stream = goal_stream(goal_id)
    for event in events:
        version = await conn.fetchval("SELECT version FROM streams WHERE stream_id = $1", stream)
        new = NewEvent(uuid.uuid4(), codec.event_type(event), codec.encode_event(event), METADATA)
        await append(conn, stream, version, [new])


@pytest.mark.parametrize("kind", get_args(GoalEvent), ids=_tag)
async def test_a_check_in_goes_in_after_an_event_exactly_when_its_decision_still_stands(
    conn: Connection, north: ClinicWorld, kind: type[msgspec.Struct]
) -> None:
    check_in_id = uuid.uuid4()
    examples = _examples(check_in_id).get(kind)
    assert examples, f"{kind.__name__} has no examples: add some to `_examples`"
    therapist = Actor(north.therapist.user.id, "therapist")
    # Each example alone, and after a check-in that lets the check-in through by itself.
    histories = [
        [*before, example]
        for example in examples
        for before in ([], [builders.progress_recorded(uuid.uuid4())])
    ]

    for history in histories:
        goal_id = await new_goal(conn, north.client.user.id, therapist, check_ins=2)
        command, attempt = await _check_in_decided_on_the_fold(conn, north, goal_id, check_in_id)
        since = [msgspec.structs.replace(event, goal_id=goal_id) for event in history]
        await _append_raw(conn, goal_id, since)

        (outcome,) = await read_and_append(conn, [attempt])

        assert [item.event_type for item in outcome.read.newer] == [
            codec.event_type(event) for event in since
        ]
        assert (outcome.appended is not None) == still_decided(command, since), history
