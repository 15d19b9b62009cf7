"""A consumer made with `follower`: its own place per goal, and its own dead letters."""

from datetime import timedelta
from uuid import UUID

import asyncpg
import pytest

from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.projections.consumer import Consumer
from infra.projections.feed import lagging
from infra.projections.follow import follower
from infra.projections.goal_summaries import project_goal
from tests.integration.projections.goals import goal_with_check_ins

FAILING_VERSION = 3


def versions_seen() -> tuple[list[int], Consumer]:
    """A consumer that notes the versions it applied, and fails on FAILING_VERSION."""
    seen: list[int] = []

    async def handle(conn: Connection, goal_id: UUID, events: list[RecordedEvent]) -> None:
        for event in events:
            if event.stream_version == FAILING_VERSION:
                raise ValueError(f"cannot take version {event.stream_version}")
        seen.extend(event.stream_version for event in events)

    return seen, follower("picky", 1, (), handle)


async def test_a_failing_event_stalls_its_goal_for_that_consumer_alone(conn: Connection) -> None:
    seen, picky = versions_seen()
    goal_id = await goal_with_check_ins(conn, 4)

    stalled = await picky.apply(conn, goal_id)
    again = await picky.apply(conn, goal_id)
    summaries = await project_goal(conn, goal_id)

    # The events before the failing one are applied once; the batch that failed left nothing.
    assert (stalled.applied, stalled.stalled) == (FAILING_VERSION - 1, True)
    assert seen == [1, 2]
    assert (again.applied, again.stalled) == (0, True)
    progress = await conn.fetchrow(
        "SELECT version, stalled_at_version FROM consumer_progress WHERE consumer = 'picky'"
    )
    assert progress is not None
    assert tuple(progress) == (FAILING_VERSION - 1, FAILING_VERSION)
    error = await conn.fetchval(
        "SELECT error FROM consumer_dead_letters WHERE consumer = 'picky' AND goal_id = $1",
        goal_id,
    )
    assert error == f"ValueError: cannot take version {FAILING_VERSION}"
    # A stalled goal waits for an operator, not for the reconciler; other consumers go on.
    assert await lagging(conn, picky, timedelta(0)) == []
    assert (summaries.applied, summaries.stalled) == (5, False)


async def test_a_database_error_is_raised_to_be_tried_again(conn: Connection) -> None:
    async def handle(conn: Connection, goal_id: UUID, events: list[RecordedEvent]) -> None:
        await conn.execute("SELECT 1 / 0")

    divider = follower("divider", 1, (), handle)
    goal_id = await goal_with_check_ins(conn, 1)

    with pytest.raises(asyncpg.DivisionByZeroError):
        await divider.apply(conn, goal_id)

    assert await conn.fetchval("SELECT count(*) FROM consumer_dead_letters") == 0
    assert await lagging(conn, divider, timedelta(0)) == [goal_id]
