"""The one path every goal command takes, through a process's cache of folded goals: a goal that
does not exist yet is version 0 there too."""

import uuid

import pytest

from domain.goals.commands import RateGoal, SetGoal
from domain.goals.errors import GoalRuleViolation
from infra.db.connection import Connection
from infra.eventstore.store import read_stream, stream_version
from infra.goals.folds import GoalFolds
from infra.goals.handler import CommandContext, handle
from infra.goals.streams import goal_stream
from tests.integration.projections.goals import CLINIC, NOW, THERAPIST, terms


def _context() -> CommandContext:
    return CommandContext(uuid.uuid4(), CLINIC, "handler-test")


async def test_a_goal_set_through_the_folds_starts_its_stream_at_version_one(
    conn: Connection,
) -> None:
    goal_id = uuid.uuid4()

    handled = await handle(
        conn, SetGoal(goal_id, uuid.uuid4(), terms(), THERAPIST, NOW), _context(), folds=GoalFolds()
    )

    assert handled.appended.version == 1
    assert [event.stream_version for event in await read_stream(conn, goal_stream(goal_id))] == [1]
    assert await stream_version(conn, goal_stream(goal_id)) == 1


async def test_a_command_on_a_goal_never_set_is_refused_through_the_folds_too(
    conn: Connection,
) -> None:
    goal_id = uuid.uuid4()

    with pytest.raises(GoalRuleViolation) as refused:
        await handle(conn, RateGoal(goal_id, 1, THERAPIST, NOW), _context(), folds=GoalFolds())

    assert refused.value.code == "goal_not_found"
    assert await read_stream(conn, goal_stream(goal_id)) == []
