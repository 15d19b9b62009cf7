"""One lock order for every transaction that writes to a goal: a keyed write (its transaction
has claimed its key first) and a writer queued behind a conflict meet without a deadlock."""

import asyncio
import time
import uuid
from uuid import UUID

import asyncpg

from domain.goals.commands import RecordProgress
from infra.db.connection import Connection
from infra.goals.folds import FoldedGoal, GoalFolds
from infra.goals.handler import CommandContext, handle, load_goal
from tests.integration.projections.goals import (
    CLINIC,
    NOW,
    THERAPIST,
    check_in,
    goal_with_check_ins,
    take_transaction_id,
)


class HeldAtLoad(GoalFolds):
    """Folds that let a load through only once `opened` is set: the queued writer waits there,
    holding the goal's queue lock, for as long as the test needs."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = asyncio.Event()

    async def load(self, conn: Connection, goal_id: UUID) -> FoldedGoal | None:
        await self.opened.wait()
        return await super().load(conn, goal_id)


# Advisory locks of this database only: other databases on the server have their own.
_HERE = "database = (SELECT oid FROM pg_database WHERE datname = current_database())"


def _check_in(goal_id: UUID) -> RecordProgress:
    return RecordProgress(goal_id, uuid.uuid4(), 1, NOW, THERAPIST, NOW)


def _context() -> CommandContext:
    return CommandContext(uuid.uuid4(), CLINIC, "lock-order")


async def _until_someone_waits_for_an_advisory_lock(conn: Connection) -> None:
    deadline = time.monotonic() + 10
    while not await conn.fetchval(
        f"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND {_HERE}"
    ):
        if time.monotonic() > deadline:
            raise AssertionError("no one waited for the goal's queue")
        await asyncio.sleep(0.01)


async def test_a_keyed_write_and_a_queued_write_on_one_goal_both_go_in(
    pool: asyncpg.Pool,
) -> None:
    async with (
        pool.acquire() as setup,
        pool.acquire() as queued,
        pool.acquire() as keyed,
        pool.acquire() as watcher,
    ):
        goal_id = await goal_with_check_ins(setup, 0)
        stale = await load_goal(setup, goal_id)  # both writers decided on version 1
        await check_in(setup, goal_id)  # and version 2 went in before either appended
        folds = HeldAtLoad()
        # Its first append fails on version 2; it queues, and waits at its load.
        queued_write = asyncio.create_task(
            handle(queued, _check_in(goal_id), _context(), loaded=stale, folds=folds)
        )
        await _until_the_queue_is_held(watcher, folds)

        async def keyed_write() -> None:
            async with keyed.transaction():
                await take_transaction_id(keyed)  # as claiming its Idempotency-Key does
                await handle(keyed, _check_in(goal_id), _context(), loaded=stale)

        keyed_task = asyncio.create_task(keyed_write())
        await _until_someone_waits_for_an_advisory_lock(watcher)
        folds.opened.set()
        outcomes = await asyncio.gather(queued_write, keyed_task, return_exceptions=True)
        versions = await watcher.fetch(
            "SELECT stream_version FROM events WHERE stream_id = $1 ORDER BY stream_version",
            f"goal-{goal_id}",
        )

    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    assert [row[0] for row in versions] == [1, 2, 3, 4]


async def _until_the_queue_is_held(conn: Connection, folds: HeldAtLoad) -> None:
    """Until the queued writer holds the goal's queue lock (it is granted, and no one else's)."""
    deadline = time.monotonic() + 10
    while not await conn.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
        f"AND pid <> pg_backend_pid() AND {_HERE}"
    ):
        if time.monotonic() > deadline:
            raise AssertionError("the queued writer never took the goal's queue lock")
        await asyncio.sleep(0.01)
    assert not folds.opened.is_set()
