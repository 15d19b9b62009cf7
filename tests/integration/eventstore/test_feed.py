"""The global feed under concurrent writers that commit out of position order: what it promises
(every committed event once, never passing over one still to commit) and what it does not (an
order of commits, or of a stream's versions)."""

import asyncio
import random
import time
from typing import Protocol
from uuid import UUID

import asyncpg

from infra.db.connection import Connection
from infra.eventstore.envelope import FeedCheckpoint
from infra.eventstore.store import append, checkpoint_of, read_all, stream_version
from tests.integration.eventstore.events import new_event, take_transaction_id


class Reader(Protocol):
    """Reads the next events of the log and says how far it has come."""

    @property
    def position(self) -> int: ...

    async def __call__(self, conn: Connection) -> list[UUID]: ...


WRITERS = 8
BATCHES_PER_WRITER = 60
EVENTS_PER_BATCH = 5


class FencedReader:
    def __init__(self) -> None:
        self.checkpoint = FeedCheckpoint()

    @property
    def position(self) -> int:
        return self.checkpoint.position

    async def __call__(self, conn: Connection) -> list[UUID]:
        events = await read_all(conn, self.checkpoint, limit=97)
        if events:
            self.checkpoint = checkpoint_of(events[-1])
        return [event.event_id for event in events]


class PositionReader:
    """The tempting reader that trusts positions: it passes over events that commit late."""

    def __init__(self) -> None:
        self.last_position = 0

    @property
    def position(self) -> int:
        return self.last_position

    async def __call__(self, conn: Connection) -> list[UUID]:
        rows = await conn.fetch(
            "SELECT position, event_id FROM events WHERE position > $1 ORDER BY position LIMIT 97",
            self.last_position,
        )
        if rows:
            self.last_position = rows[-1]["position"]
        return [row["event_id"] for row in rows]


async def _writer(pool: asyncpg.Pool, writer: int, committed: set[UUID], seed: int) -> None:
    """Appends batches in transactions that sometimes stay open a while or roll back."""
    chance = random.Random(seed)
    stream = f"writer-{writer}"
    async with pool.acquire() as conn:
        for _ in range(BATCHES_PER_WRITER):
            batch = [new_event() for _ in range(EVENTS_PER_BATCH)]
            transaction = conn.transaction()
            await transaction.start()
            await append(conn, stream, await stream_version(conn, stream), batch)
            if chance.random() < 0.3:
                await conn.execute("SELECT pg_sleep($1)", chance.uniform(0.005, 0.08))
            if chance.random() < 0.1:
                await transaction.rollback()
                continue
            await transaction.commit()
            committed.update(event.event_id for event in batch)


async def _late_writer(pool: asyncpg.Pool, committed: set[UUID], reader: Reader) -> None:
    """One append held open until the reader has read past its position (or half a second has
    gone by), so that every run has at least one event that commits after later positions."""
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        batch = [new_event("late")]
        stored = await append(conn, "late-writer", 0, batch)
        for _ in range(100):  # at most half a second
            if reader.position > stored.last_position:
                break
            await asyncio.sleep(0.005)
        await transaction.commit()
        committed.update(event.event_id for event in batch)


async def _follow_while_writing(
    pool: asyncpg.Pool, read_next: Reader, drain_seconds: float
) -> tuple[set[UUID], list[UUID]]:
    committed: set[UUID] = set()
    seen: list[UUID] = []
    writers = asyncio.gather(
        _late_writer(pool, committed, read_next),
        *(_writer(pool, writer, committed, seed=writer) for writer in range(WRITERS)),
    )
    async with pool.acquire() as conn:
        while not writers.done():
            seen.extend(await read_next(conn))
            await asyncio.sleep(0.002)
        await writers
        # The writers are done: what the feed still holds comes out now, or as soon as the
        # server-wide fence passes any transaction still open in another database.
        deadline = time.monotonic() + drain_seconds
        while not committed <= set(seen) and time.monotonic() < deadline:
            seen.extend(await read_next(conn))
            await asyncio.sleep(0.002)
    return committed, seen


async def test_the_feed_delivers_every_committed_event_exactly_once(pool: asyncpg.Pool) -> None:
    committed, seen = await _follow_while_writing(pool, FencedReader(), drain_seconds=10)

    assert len(committed) > 2000
    assert len(seen) == len(set(seen)), "an event was delivered twice"
    assert set(seen) == committed, f"missed {len(committed - set(seen))} events"


async def test_the_same_load_makes_a_position_reader_miss_events(pool: asyncpg.Pool) -> None:
    committed, seen = await _follow_while_writing(pool, PositionReader(), drain_seconds=1)

    assert committed - set(seen), "late commits should have slipped past a position reader"


async def _read_at_least(reader: FencedReader, conn: Connection, count: int) -> list[UUID]:
    """The fence is server-wide: a transaction open in another database (say, another test run)
    may hold the feed back for a moment, so wait for the expected events rather than fail."""
    delivered: list[UUID] = []
    deadline = time.monotonic() + 10
    while len(delivered) < count and time.monotonic() < deadline:
        delivered.extend(await reader(conn))
        await asyncio.sleep(0.01)
    return delivered


async def test_a_reader_does_not_pass_over_a_transaction_still_open(pool: asyncpg.Pool) -> None:
    reader = FencedReader()
    async with pool.acquire() as early, pool.acquire() as late, pool.acquire() as feed:
        held = early.transaction()
        await held.start()
        slow = new_event("slow")
        await append(early, "slow", 0, [slow])
        quick = new_event("quick")
        await append(late, "quick", 0, [quick])

        # The quick event is committed, but the slow writer's transaction is older and still
        # open, so the feed waits rather than step past it.
        assert await reader(feed) == []
        await held.commit()

        delivered = await _read_at_least(reader, feed, 2)
    assert sorted(delivered) == sorted([slow.event_id, quick.event_id])


async def test_the_feed_is_in_the_order_of_transaction_ids_not_of_commits(
    pool: asyncpg.Pool,
) -> None:
    """So a consumer cannot read commit order, nor a stream's version order, from it."""
    reader = FencedReader()
    async with pool.acquire() as early, pool.acquire() as late, pool.acquire() as feed:
        held = early.transaction()
        await held.start()
        await take_transaction_id(early)
        first_committed = new_event("first committed")
        await append(late, "stream", 0, [first_committed])
        committed_after = new_event("committed after")
        await append(early, "stream", 1, [committed_after])
        await held.commit()

        delivered = await _read_at_least(reader, feed, 2)
    assert delivered == [committed_after.event_id, first_committed.event_id]


async def test_a_transaction_that_took_its_id_early_is_not_passed_over(
    pool: asyncpg.Pool,
) -> None:
    """The open transaction took a lower position than the one that committed first, but a
    younger transaction id: a reader that went by positions would step past it for good."""
    reader = FencedReader()
    async with (
        pool.acquire() as earliest,
        pool.acquire() as open_one,
        pool.acquire() as feed,
    ):
        first = earliest.transaction()
        await first.start()
        await take_transaction_id(earliest)
        second = open_one.transaction()
        await second.start()
        lower = new_event("lower position, younger id")
        await append(open_one, "open", 0, [lower])
        higher = new_event("higher position, older id")
        await append(earliest, "earliest", 0, [higher])
        await first.commit()
        before = await _read_at_least(reader, feed, 1)
        await second.commit()

        after = await _read_at_least(reader, feed, 1)
    assert before == [higher.event_id]
    assert after == [lower.event_id]


async def test_a_rolled_back_append_leaves_no_trace_in_the_feed(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        doomed = conn.transaction()
        await doomed.start()
        await append(conn, "doomed", 0, [new_event()])
        await doomed.rollback()
        kept = new_event("kept")
        await append(conn, "doomed", 0, [kept])
        delivered = await _read_at_least(FencedReader(), conn, 1)
    assert delivered == [kept.event_id]
