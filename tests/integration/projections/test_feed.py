import asyncio
import time
from datetime import timedelta
from uuid import UUID

import asyncpg
import pytest

from infra.db.connection import Connection
from infra.projections.feed import (
    RELAY,
    Enqueue,
    lagging_goals,
    read_checkpoint,
    relay_batch,
)
from infra.projections.goal_summaries import project_goal
from tests.integration.projections.goals import goal_with_check_ins


class Recorder:
    def __init__(self) -> None:
        self.sent: list[UUID] = []

    async def __call__(self, goal_ids: list[UUID]) -> None:
        self.sent.extend(goal_ids)


class BrokerDown(Exception):
    pass


async def _refuse(_: list[UUID]) -> None:
    raise BrokerDown


async def _relay_all(conn: Connection, enqueue: Enqueue, expected: int) -> int:
    """Relays until `expected` events went through. The feed's fence is cluster-wide, so a
    transaction open elsewhere on the server (another test run) may hold it back a moment."""
    relayed = 0
    deadline = time.monotonic() + 10
    while relayed < expected and time.monotonic() < deadline:
        relayed += await relay_batch(conn, enqueue)
        await asyncio.sleep(0.01)
    return relayed


async def test_the_relay_enqueues_each_touched_goal_and_moves_its_checkpoint(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        first = await goal_with_check_ins(conn, 2)
        second = await goal_with_check_ins(conn, 1)
        recorder = Recorder()

        relayed = await _relay_all(conn, recorder, expected=5)
        again = await relay_batch(conn, recorder)

        assert relayed == 5
        assert again == 0
        # In one batch or, when the server-wide fence lets them through apart, in several.
        assert list(dict.fromkeys(recorder.sent)) == [first, second]
        checkpoint = await read_checkpoint(conn, RELAY)
        last = await conn.fetchrow(
            "SELECT transaction_id, position FROM events ORDER BY transaction_id DESC, "
            "position DESC LIMIT 1"
        )
        assert last is not None
        assert (checkpoint.transaction_id, checkpoint.position) == tuple(last)


async def test_a_failed_enqueue_leaves_the_checkpoint_where_it_was(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        goal_id = await goal_with_check_ins(conn, 1)

        with pytest.raises(BrokerDown):
            await _relay_all(conn, _refuse, expected=2)
        recorder = Recorder()
        relayed = await _relay_all(conn, recorder, expected=2)

        assert relayed == 2
        assert set(recorder.sent) == {goal_id}


async def test_the_reconciler_finds_goals_whose_projection_fell_behind(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        projected = await goal_with_check_ins(conn, 1)
        forgotten = await goal_with_check_ins(conn, 1)
        await project_goal(conn, projected)

        assert await lagging_goals(conn, timedelta(0)) == [forgotten]
        assert await lagging_goals(conn, timedelta(minutes=5)) == []
        await project_goal(conn, forgotten)
        assert await lagging_goals(conn, timedelta(0)) == []
