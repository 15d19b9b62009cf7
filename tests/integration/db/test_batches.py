"""Concurrent submits share round trips: what comes in during one turn of the event loop goes
together, and what comes in while the batches are in flight goes next, together; each caller gets
its own result or error."""

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

import asyncpg
import pytest

from infra.db.batches import Batcher
from infra.db.connection import Connection

T = TypeVar("T")

# Each item comes back times ten, from the database; a 0 makes the whole statement fail.
_TIMES_TEN = """
SELECT CASE WHEN x = 0 THEN 1 / x ELSE x * 10 END
FROM unnest($1::integer[]) WITH ORDINALITY AS u (x, n)
ORDER BY n
"""


class Refused(Exception):
    """What the run function returns, not raises, for a negative item."""


class RecordingRun:
    """A run function that records each batch it gets and can hold chosen batches in flight."""

    def __init__(self, *held: int) -> None:
        self.batches: list[list[int]] = []
        self.running = 0
        self.most_running = 0
        self._held = set(held)
        self.started: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.release: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)

    async def __call__(self, conn: Connection, items: list[int]) -> Sequence[int | Exception]:
        self.batches.append(list(items))
        number = len(self.batches)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        self.started[number].set()
        try:
            if number in self._held:
                await self.release[number].wait()
            rows = await conn.fetch(_TIMES_TEN, items)
        finally:
            self.running -= 1
        return [
            Refused(item) if item < 0 else row[0] for item, row in zip(items, rows, strict=True)
        ]


@asynccontextmanager
async def in_flight(run: RecordingRun, batch: int) -> AsyncIterator[None]:
    """Waits until batch number `batch` is in flight and holds it there for the block.

    On leaving, the batch is released. Setting the event only schedules the held run to resume,
    after every task created in the block has had its first step, in which `submit` queues its
    item; so what the block submitted is queued before the held batch can end.
    """
    async with asyncio.timeout(10):
        await run.started[batch].wait()
    try:
        yield
    finally:
        run.release[batch].set()


async def settled(*awaitables: Awaitable[T]) -> list[T | BaseException]:
    async with asyncio.timeout(10):
        return await asyncio.gather(*awaitables, return_exceptions=True)


async def test_a_lone_submit_runs_at_once_and_alone(pool: asyncpg.Pool) -> None:
    run = RecordingRun()
    batcher = Batcher(pool, run)

    first = await batcher.submit(4)
    second = await batcher.submit(5)

    assert (first, second) == (40, 50)
    assert run.batches == [[4], [5]]


async def test_submits_made_in_one_turn_of_the_event_loop_go_together(
    pool: asyncpg.Pool,
) -> None:
    run = RecordingRun()
    batcher = Batcher(pool, run, max_in_flight=2)

    outcomes = await settled(*(batcher.submit(item) for item in (1, 2, 3)))
    later = await batcher.submit(4)

    assert outcomes == [10, 20, 30]
    assert later == 40
    assert run.batches == [[1, 2, 3], [4]]


async def test_submits_made_while_a_batch_is_in_flight_go_together_as_the_next_batch(
    pool: asyncpg.Pool,
) -> None:
    run = RecordingRun(1)
    batcher = Batcher(pool, run, max_in_flight=1)

    first = asyncio.create_task(batcher.submit(1))
    async with in_flight(run, 1):
        later = [asyncio.create_task(batcher.submit(item)) for item in (2, 3, 4)]
        assert run.batches == [[1]]
    outcomes = await settled(first, *later)
    after = await batcher.submit(5)

    assert outcomes == [10, 20, 30, 40]
    assert run.batches == [[1], [2, 3, 4], [5]]
    assert after == 50


async def test_submits_made_while_the_next_batch_is_in_flight_wait_for_the_one_after(
    pool: asyncpg.Pool,
) -> None:
    run = RecordingRun(1, 2)
    batcher = Batcher(pool, run, max_in_flight=1)

    first = asyncio.create_task(batcher.submit(1))
    async with in_flight(run, 1):
        second = [asyncio.create_task(batcher.submit(item)) for item in (2, 3)]
    async with in_flight(run, 2):
        third = [asyncio.create_task(batcher.submit(item)) for item in (4, 5, 6)]
    outcomes = await settled(first, *second, *third)

    assert outcomes == [10, 20, 30, 40, 50, 60]
    assert run.batches == [[1], [2, 3], [4, 5, 6]]


async def test_a_submit_goes_at_once_alone_while_another_batch_slot_is_free(
    pool: asyncpg.Pool,
) -> None:
    run = RecordingRun(1)
    batcher = Batcher(pool, run, max_in_flight=2)

    first = asyncio.create_task(batcher.submit(1))
    async with in_flight(run, 1):
        second = await settled(batcher.submit(2))
        assert not first.done()

    assert second == [20]
    assert await settled(first) == [10]
    assert run.batches == [[1], [2]]


async def test_submits_made_while_every_slot_is_taken_go_together_when_one_frees(
    pool: asyncpg.Pool,
) -> None:
    run = RecordingRun(1, 2)
    batcher = Batcher(pool, run, max_in_flight=2)

    first = asyncio.create_task(batcher.submit(1))
    async with in_flight(run, 1):
        second = asyncio.create_task(batcher.submit(2))
        async with in_flight(run, 2):
            waiting = [asyncio.create_task(batcher.submit(item)) for item in (3, 4, 5)]
        # Batch 2 ended and made room; batch 1 is still held.
        outcomes = await settled(second, *waiting)
        assert not first.done()

    assert outcomes == [20, 30, 40, 50]
    assert await settled(first) == [10]
    assert run.batches == [[1], [2], [3, 4, 5]]
    assert run.most_running == 2


async def test_no_more_batches_than_max_in_flight_run_at_once_and_max_items_splits_them(
    pool: asyncpg.Pool,
) -> None:
    run = RecordingRun(1, 2)
    batcher = Batcher(pool, run, max_in_flight=2, max_items=2)

    first = asyncio.create_task(batcher.submit(1))
    async with in_flight(run, 1):
        second = asyncio.create_task(batcher.submit(2))
        async with in_flight(run, 2):
            waiting = [asyncio.create_task(batcher.submit(item)) for item in (3, 4, 5, 6, 7)]
    outcomes = await settled(first, second, *waiting)

    assert outcomes == [10, 20, 30, 40, 50, 60, 70]
    assert sorted(run.batches) == [[1], [2], [3, 4], [5, 6], [7]]
    assert run.batches[:2] == [[1], [2]]
    assert run.most_running == 2


async def test_an_error_returned_for_one_item_is_raised_to_its_caller_only(
    pool: asyncpg.Pool,
) -> None:
    run = RecordingRun(1)
    batcher = Batcher(pool, run, max_in_flight=1)

    first = asyncio.create_task(batcher.submit(1))
    async with in_flight(run, 1):
        later = [asyncio.create_task(batcher.submit(item)) for item in (2, -3, 4)]
    outcomes = await settled(first, *later)

    assert run.batches == [[1], [2, -3, 4]]
    assert outcomes[:2] == [10, 20]
    assert isinstance(outcomes[2], Refused)
    assert outcomes[2].args == (-3,)
    assert outcomes[3] == 40


async def test_an_error_returned_for_a_lone_submit_is_raised_to_it(pool: asyncpg.Pool) -> None:
    run = RecordingRun()
    batcher = Batcher(pool, run)

    with pytest.raises(Refused):
        await batcher.submit(-1)
    assert await batcher.submit(2) == 20
    assert run.batches == [[-1], [2]]


async def test_a_failing_run_reaches_every_caller_of_its_batch_and_no_other(
    pool: asyncpg.Pool,
) -> None:
    run = RecordingRun(1, 2)
    batcher = Batcher(pool, run, max_in_flight=1)

    first = asyncio.create_task(batcher.submit(1))
    async with in_flight(run, 1):
        failing = [asyncio.create_task(batcher.submit(item)) for item in (2, 0, 4)]
    async with in_flight(run, 2):
        after = [asyncio.create_task(batcher.submit(item)) for item in (5, 6)]
    outcomes = await settled(first, *failing, *after)

    assert run.batches == [[1], [2, 0, 4], [5, 6]]
    assert outcomes[0] == 10
    assert all(isinstance(item, asyncpg.DivisionByZeroError) for item in outcomes[1:4])
    assert outcomes[4:] == [50, 60]


async def test_a_failing_lone_run_is_raised_to_its_caller(pool: asyncpg.Pool) -> None:
    run = RecordingRun()
    batcher = Batcher(pool, run)

    with pytest.raises(asyncpg.DivisionByZeroError):
        await batcher.submit(0)
    assert await batcher.submit(3) == 30


async def test_max_items_splits_what_waits_into_batches_in_order(pool: asyncpg.Pool) -> None:
    run = RecordingRun(1)
    batcher = Batcher(pool, run, max_in_flight=1, max_items=2)

    first = asyncio.create_task(batcher.submit(1))
    async with in_flight(run, 1):
        later = [asyncio.create_task(batcher.submit(item)) for item in (2, 3, 4, 5, 6)]
    outcomes = await settled(first, *later)

    assert outcomes == [10, 20, 30, 40, 50, 60]
    assert run.batches == [[1], [2, 3], [4, 5], [6]]


async def test_a_caller_that_gives_up_while_its_batch_is_in_flight_leaves_the_others_served(
    pool: asyncpg.Pool,
) -> None:
    run = RecordingRun(1, 2)
    batcher = Batcher(pool, run, max_in_flight=1)

    first = asyncio.create_task(batcher.submit(1))
    async with in_flight(run, 1):
        later = [asyncio.create_task(batcher.submit(item)) for item in (2, 3, 4)]
    async with in_flight(run, 2):
        later[1].cancel()
    outcomes = await settled(first, *later)
    after = await batcher.submit(5)

    assert run.batches == [[1], [2, 3, 4], [5]]
    assert outcomes[:2] == [10, 20]
    assert isinstance(outcomes[2], asyncio.CancelledError)
    assert outcomes[3] == 40
    assert after == 50


async def test_a_run_that_answers_for_too_few_items_fails_each_caller_of_its_batch(
    pool: asyncpg.Pool,
) -> None:
    async def one_short(conn: Connection, items: list[int]) -> Sequence[int | Exception]:
        return [await conn.fetchval("SELECT $1::integer * 10", item) for item in items[1:]]

    batcher = Batcher(pool, one_short, max_in_flight=1)

    outcomes = await settled(*(batcher.submit(item) for item in (1, 2, 3)))

    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes), outcomes
