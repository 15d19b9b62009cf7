"""The one path every goal command takes: load, decide, append; after a first conflict, again in
the goal's queue, on the goal as it is by then."""

import asyncio
import uuid

import asyncpg
import msgspec
import pytest

from domain.goals.commands import RateGoal, SetGoal
from domain.goals.errors import GoalRuleViolation
from domain.goals.state import GoalState
from infra.db.connection import Connection
from infra.eventstore.envelope import Metadata
from infra.eventstore.store import read_stream, stream_version
from infra.goals.folds import FoldedGoal, GoalFolds
from infra.goals.handler import CommandContext, handle, load_goal
from infra.goals.streams import goal_stream
from tests.integration.projections.goals import CLINIC, CLINIC_OPENED, NOW, THERAPIST, terms


def _context() -> CommandContext:
    return CommandContext(uuid.uuid4(), CLINIC, "handler-test")


async def test_a_goal_set_through_the_folds_starts_its_stream_at_version_one(
    conn: Connection,
) -> None:
    goal_id = uuid.uuid4()

    handled = await handle(
        conn,
        SetGoal(goal_id, uuid.uuid4(), terms(), THERAPIST, NOW, CLINIC_OPENED),
        _context(),
        folds=GoalFolds(),
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


async def _goal_that_moved_on(conn: Connection) -> tuple[uuid.UUID, tuple[GoalState, int]]:
    """A goal at version 2, and what a writer read of it at version 1."""
    goal_id = uuid.uuid4()
    await handle(
        conn, SetGoal(goal_id, uuid.uuid4(), terms(), THERAPIST, NOW, CLINIC_OPENED), _context()
    )
    read_before = await load_goal(conn, goal_id)
    await handle(conn, RateGoal(goal_id, -1, THERAPIST, NOW), _context())
    return goal_id, read_before


async def test_the_events_carry_who_ran_the_command_and_why(conn: Connection) -> None:
    goal_id, _ = await _goal_that_moved_on(conn)
    context = CommandContext(
        uuid.uuid4(), CLINIC, "correlated", causation_id="caused-by", reason="Reviewed in session"
    )

    await handle(conn, RateGoal(goal_id, 1, THERAPIST, NOW), context)

    rated = (await read_stream(conn, goal_stream(goal_id)))[-1]
    assert rated.metadata == Metadata(
        actor_id=THERAPIST.user_id,
        actor_role="therapist",
        clinic_id=CLINIC,
        correlation_id="correlated",
        causation_id="caused-by",
        reason="Reviewed in session",
    )


async def test_a_command_decided_on_a_goal_that_moved_on_is_decided_again_in_its_queue(
    conn: Connection,
) -> None:
    goal_id, read_before = await _goal_that_moved_on(conn)

    handled = await handle(
        conn, RateGoal(goal_id, 2, THERAPIST, NOW), _context(), loaded=read_before
    )

    assert handled.appended.version == 3
    stream = await read_stream(conn, goal_stream(goal_id))
    assert [(event.stream_version, event.event_type) for event in stream] == [
        (1, "goal_set"),
        (2, "goal_rated"),
        (3, "goal_rated"),
    ]
    assert handled.state == (await load_goal(conn, goal_id))[0]


async def test_a_goals_queue_holds_up_no_other_goals_writers(pool: asyncpg.Pool) -> None:
    """One writer waits in goal A's queue, in a transaction not yet ended; a writer in goal B's
    queue goes through meanwhile."""
    async with pool.acquire() as first, pool.acquire() as second:
        (goal_a, read_a), (goal_b, read_b) = [await _goal_that_moved_on(first) for _ in "ab"]
        async with first.transaction():
            await handle(first, RateGoal(goal_a, 1, THERAPIST, NOW), _context(), loaded=read_a)
            async with asyncio.timeout(10):
                other = await handle(
                    second, RateGoal(goal_b, 1, THERAPIST, NOW), _context(), loaded=read_b
                )
        assert other.appended.version == 3
        assert await stream_version(first, goal_stream(goal_a)) == 3


class _LettingAWriterInAfterItsFirstLoad(GoalFolds):
    """Folds as a process does, but once, right after its first load, another writer (one that
    takes no place in the queue) appends to the goal: the queued writer's next append conflicts."""

    def __init__(self, writer: Connection) -> None:
        super().__init__()
        self._writer: Connection | None = writer

    async def load(self, conn: Connection, goal_id: uuid.UUID) -> FoldedGoal | None:
        folded = await super().load(conn, goal_id)
        if self._writer is not None:
            writer, self._writer = self._writer, None
            await handle(writer, RateGoal(goal_id, 0, THERAPIST, NOW), _context())
        return folded


async def test_a_writer_that_conflicts_again_in_its_queue_tries_again(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, pool.acquire() as writer:
        goal_id, read_before = await _goal_that_moved_on(conn)

        handled = await handle(
            conn,
            RateGoal(goal_id, 2, THERAPIST, NOW),
            _context(),
            loaded=read_before,
            folds=_LettingAWriterInAfterItsFirstLoad(writer),
        )

        assert handled.appended.version == 4
        ratings = [event.data for event in await read_stream(conn, goal_stream(goal_id))][1:]
        assert [msgspec.json.decode(data)["rating"] for data in ratings] == [-1, 0, 2]
