"""A goal's events in the feed need not be in version order; the rebuild must not care."""

import asyncio
import time
from datetime import timedelta

import asyncpg

from infra.eventstore.envelope import FeedCheckpoint, RecordedEvent
from infra.eventstore.store import read_all
from infra.goals.streams import goal_stream
from infra.projections.feed import lagging_goals
from infra.projections.goal_summaries import project_goal
from infra.projections.rebuild import rebuild_goal_summaries
from tests.integration.projections.goals import check_in, goal_with_check_ins, take_transaction_id
from tests.integration.projections.rebuilds import (
    finished,
    projection_rows,
    rebuilding_connection,
    start_rebuild_command,
)


async def _inverted_goal(pool: asyncpg.Pool) -> str:
    """A goal whose version 3 was written by a transaction with an older id than version 2's:
    the first transaction took its id, then the second committed version 2, then the first
    appended version 3 and committed."""
    async with pool.acquire() as early, pool.acquire() as other:
        goal_id = await goal_with_check_ins(other, 0)
        async with early.transaction():
            await take_transaction_id(early)
            await check_in(other, goal_id, 2)
            await check_in(early, goal_id, 3)
    return goal_stream(goal_id)


async def test_the_feed_may_give_a_goals_versions_out_of_order(pool: asyncpg.Pool) -> None:
    stream = await _inverted_goal(pool)
    feed: list[RecordedEvent] = []
    deadline = time.monotonic() + 10  # the fence is server-wide: wait out others' transactions
    async with pool.acquire() as conn:
        while len(feed) < 3 and time.monotonic() < deadline:
            feed = [e for e in await read_all(conn, FeedCheckpoint()) if e.stream_id == stream]
            await asyncio.sleep(0.01)

    assert [event.stream_version for event in feed] == [1, 3, 2]


async def test_the_rebuild_equals_the_incremental_projection_when_the_feed_is_out_of_order(
    pool: asyncpg.Pool, admin_database_url: str
) -> None:
    await _inverted_goal(pool)
    async with pool.acquire() as conn:
        for goal_id in await lagging_goals(conn, older_than=timedelta(0)):
            await project_goal(conn, goal_id)
        incremental = await projection_rows(conn)
        async with rebuilding_connection(admin_database_url) as rebuilder:
            rebuilt = await rebuild_goal_summaries(rebuilder, lambda done, total: None)

        assert await projection_rows(conn) == incremental
        assert incremental[0][0][4] == 3  # the summary is at version 3, nothing stalled
        assert rebuilt.stalled == []

    code, output = await finished(start_rebuild_command(admin_database_url))
    assert code == 0, output
    async with pool.acquire() as conn:
        assert await projection_rows(conn) == incremental
