"""Many appends in one statement: each lands, or fails alone, as `append` would make it."""

import asyncio
import json

import asyncpg
import pytest

from infra.db.connection import Connection
from infra.eventstore.envelope import AppendResult
from infra.eventstore.store import (
    EventIdConflict,
    PendingAppend,
    WrongExpectedVersion,
    append,
    append_batch,
    read_stream,
    stream_version,
)
from tests.integration.eventstore.events import new_event


def pending(stream_id: str, expected_version: int, *labels: str) -> PendingAppend:
    return PendingAppend(stream_id, expected_version, [new_event(label) for label in labels])


def landed(outcome: AppendResult | Exception) -> AppendResult:
    assert isinstance(outcome, AppendResult), outcome
    assert not outcome.replayed
    return outcome


def refused(outcome: AppendResult | Exception) -> WrongExpectedVersion:
    assert isinstance(outcome, WrongExpectedVersion), outcome
    return outcome


async def labels(conn: Connection, stream_id: str) -> list[str]:
    return [json.loads(item.data)["label"] for item in await read_stream(conn, stream_id)]


async def versions_in_log(conn: Connection, stream_id: str) -> list[int]:
    rows = await conn.fetch(
        "SELECT stream_version FROM events WHERE stream_id = $1 ORDER BY position", stream_id
    )
    return [row[0] for row in rows]


async def assert_log_is_consistent(conn: Connection) -> None:
    """Every stream holds versions 1..n without gaps, its head says n, no event id is twice."""
    broken = await conn.fetch(
        """
        SELECT e.stream_id, count(*), min(e.stream_version), max(e.stream_version), s.version
        FROM events e LEFT JOIN streams s USING (stream_id)
        GROUP BY e.stream_id, s.version
        HAVING min(e.stream_version) <> 1 OR max(e.stream_version) <> count(*)
            OR count(DISTINCT e.stream_version) <> count(*) OR s.version IS DISTINCT FROM count(*)
        """
    )
    assert broken == []
    assert await conn.fetchval("SELECT count(*) = count(DISTINCT event_id) FROM events")
    heads_without_events = await conn.fetch(
        "SELECT stream_id FROM streams WHERE stream_id NOT IN (SELECT stream_id FROM events)"
    )
    assert heads_without_events == []


async def test_appends_to_several_streams_land_with_their_versions_in_submission_order(
    conn: Connection,
) -> None:
    await append(conn, "b", 0, [new_event("b1"), new_event("b2")])

    outcomes = await append_batch(
        conn,
        [pending("a", 0, "a1", "a2"), pending("b", 2, "b3"), pending("c", 0, "c1", "c2", "c3")],
    )

    a, b, c = (landed(outcome) for outcome in outcomes)
    assert [item.stream_version for item in a.stored] == [1, 2]
    assert [item.stream_version for item in b.stored] == [3]
    assert [item.stream_version for item in c.stored] == [1, 2, 3]
    positions = [item.position for result in (a, b, c) for item in result.stored]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    assert await labels(conn, "a") == ["a1", "a2"]
    assert await labels(conn, "b") == ["b1", "b2", "b3"]
    assert await labels(conn, "c") == ["c1", "c2", "c3"]
    for stream_id, result in (("a", a), ("b", b), ("c", c)):
        recorded = await read_stream(conn, stream_id, result.stored[0].stream_version - 1)
        assert [(item.position, item.stream_version) for item in recorded] == [
            (item.position, item.stream_version) for item in result.stored
        ]
    assert [await stream_version(conn, stream_id) for stream_id in "abc"] == [2, 3, 3]
    await assert_log_is_consistent(conn)


async def test_a_stale_expected_version_fails_only_its_own_append(conn: Connection) -> None:
    await append(conn, "stale", 0, [new_event("s1"), new_event("s2")])

    outcomes = await append_batch(
        conn,
        [pending("fresh-1", 0, "f1"), pending("stale", 1, "lost"), pending("fresh-2", 0, "g1")],
    )

    landed(outcomes[0])
    conflict = refused(outcomes[1])
    landed(outcomes[2])
    assert (conflict.stream_id, conflict.expected_version, conflict.actual_version) == (
        "stale",
        1,
        2,
    )
    assert await labels(conn, "stale") == ["s1", "s2"]
    assert await stream_version(conn, "stale") == 2
    assert await labels(conn, "fresh-1") == ["f1"]
    assert await labels(conn, "fresh-2") == ["g1"]
    await assert_log_is_consistent(conn)


async def test_a_lone_append_that_fails_is_returned_not_raised(conn: Connection) -> None:
    await append(conn, "alone", 0, [new_event()])

    (outcome,) = await append_batch(conn, [pending("alone", 0, "lost")])

    assert refused(outcome).actual_version == 1
    assert await versions_in_log(conn, "alone") == [1]


async def test_appends_to_one_stream_in_one_batch_land_one_after_the_other(
    conn: Connection,
) -> None:
    outcomes = await append_batch(
        conn,
        [
            pending("twice", 0, "a", "b"),
            pending("other", 0, "x"),
            pending("twice", 2, "c"),
            pending("twice", 3, "d", "e"),
        ],
    )

    first, other, second, third = (landed(outcome) for outcome in outcomes)
    assert [item.stream_version for item in first.stored] == [1, 2]
    assert [item.stream_version for item in second.stored] == [3]
    assert [item.stream_version for item in third.stored] == [4, 5]
    assert first.last_position < second.stored[0].position
    assert second.last_position < third.stored[0].position
    assert [item.stream_version for item in other.stored] == [1]
    assert await labels(conn, "twice") == ["a", "b", "c", "d", "e"]
    assert await stream_version(conn, "twice") == 5
    await assert_log_is_consistent(conn)


async def test_two_appends_at_one_version_of_a_stream_in_one_batch_admit_the_first(
    conn: Connection,
) -> None:
    outcomes = await append_batch(
        conn, [pending("contended", 0, "first"), pending("contended", 0, "second")]
    )

    assert landed(outcomes[0]).version == 1
    assert refused(outcomes[1]).actual_version == 1
    assert await labels(conn, "contended") == ["first"]


async def test_new_streams_start_but_one_that_already_exists_is_refused(
    conn: Connection,
) -> None:
    await append(conn, "existing", 0, [new_event("old")])

    outcomes = await append_batch(
        conn,
        [pending("new-1", 0, "n1"), pending("existing", 0, "again"), pending("new-2", 0, "n2")],
    )

    assert landed(outcomes[0]).version == 1
    conflict = refused(outcomes[1])
    assert (conflict.expected_version, conflict.actual_version) == (0, 1)
    assert landed(outcomes[2]).version == 1
    assert await labels(conn, "existing") == ["old"]
    assert await labels(conn, "new-1") == ["n1"]
    assert await labels(conn, "new-2") == ["n2"]
    await assert_log_is_consistent(conn)


async def test_resending_an_earlier_append_returns_its_original_positions(
    conn: Connection,
) -> None:
    events = [new_event("a"), new_event("b")]
    original = await append(conn, "sent", 0, events)
    await append(conn, "sent", 2, [new_event("later")])

    outcomes = await append_batch(
        conn, [PendingAppend("sent", 0, events), pending("beside", 0, "x")]
    )
    (alone,) = await append_batch(conn, [PendingAppend("sent", 0, events)])

    again = outcomes[0]
    assert isinstance(again, AppendResult)
    assert again.replayed
    assert again.stored == original.stored
    assert alone == again
    assert landed(outcomes[1]).version == 1
    assert await labels(conn, "sent") == ["a", "b", "later"]
    await assert_log_is_consistent(conn)


async def test_the_same_append_twice_in_one_batch_lands_once_and_is_replayed_once(
    conn: Connection,
) -> None:
    events = [new_event("a"), new_event("b")]

    outcomes = await append_batch(
        conn,
        [PendingAppend("retried", 0, events), PendingAppend("retried", 0, list(events))],
    )

    first = landed(outcomes[0])
    second = outcomes[1]
    assert isinstance(second, AppendResult)
    assert second.replayed
    assert second.stored == first.stored
    assert await labels(conn, "retried") == ["a", "b"]


async def test_an_event_id_stored_in_another_stream_fails_only_its_own_append(
    conn: Connection,
) -> None:
    taken = new_event("taken")
    await append(conn, "owner", 0, [taken])

    outcomes = await append_batch(
        conn,
        [
            pending("before", 0, "b1"),
            PendingAppend("thief", 0, [new_event("t1"), taken]),
            pending("after", 0, "a1", "a2"),
        ],
    )

    assert landed(outcomes[0]).version == 1
    assert isinstance(outcomes[1], EventIdConflict)
    assert landed(outcomes[2]).version == 2
    assert await read_stream(conn, "thief") == []
    assert await stream_version(conn, "thief") == 0
    assert await labels(conn, "owner") == ["taken"]
    assert await labels(conn, "before") == ["b1"]
    assert await labels(conn, "after") == ["a1", "a2"]
    await assert_log_is_consistent(conn)


async def test_one_event_id_in_two_appends_of_a_batch_lands_with_the_first_only(
    conn: Connection,
) -> None:
    shared = new_event("shared")

    outcomes = await append_batch(
        conn,
        [
            PendingAppend("first", 0, [shared]),
            pending("between", 0, "x"),
            PendingAppend("second", 0, [new_event("own"), shared]),
        ],
    )

    assert landed(outcomes[0]).version == 1
    assert landed(outcomes[1]).version == 1
    assert isinstance(outcomes[2], EventIdConflict)
    assert await labels(conn, "first") == ["shared"]
    assert await read_stream(conn, "second") == []
    await assert_log_is_consistent(conn)


async def _batch_on_own_connection(
    pool: asyncpg.Pool, appends: list[PendingAppend]
) -> list[AppendResult | Exception]:
    async with pool.acquire() as conn:
        return await append_batch(conn, appends)


@pytest.mark.parametrize("crossed", [False, True], ids=["same-order", "crossed-order"])
async def test_racing_batches_on_one_stream_admit_exactly_one_writer_per_version(
    pool: asyncpg.Pool, crossed: bool
) -> None:
    rounds = 5
    for expected in range(rounds):
        left = [
            pending("shared", expected, f"left-{expected}"),
            pending(f"left-{expected}", 0, "own"),
        ]
        right = [
            pending("shared", expected, f"right-{expected}"),
            pending(f"right-{expected}", 0, "own"),
        ]
        if crossed:
            right.reverse()

        outcomes = await asyncio.gather(
            _batch_on_own_connection(pool, left), _batch_on_own_connection(pool, right)
        )

        shared_outcomes = [outcomes[0][0], outcomes[1][-1 if crossed else 0]]
        winners = [item for item in shared_outcomes if isinstance(item, AppendResult)]
        losers = [item for item in shared_outcomes if isinstance(item, WrongExpectedVersion)]
        assert len(winners) == 1, shared_outcomes
        assert len(losers) == 1, shared_outcomes
        assert winners[0].version == expected + 1
        assert not winners[0].replayed
        assert losers[0].actual_version == expected + 1
        own_outcomes = [outcomes[0][1], outcomes[1][0 if crossed else 1]]
        assert [landed(item).version for item in own_outcomes] == [1, 1]
    async with pool.acquire() as conn:
        assert await versions_in_log(conn, "shared") == list(range(1, rounds + 1))
        assert await stream_version(conn, "shared") == rounds
        await assert_log_is_consistent(conn)


async def _wait_until_blocked_on_a_lock(conn: Connection, pid: int) -> None:
    async with asyncio.timeout(10):
        while not await conn.fetchval(
            "SELECT coalesce(bool_or(wait_event_type = 'Lock'), false) "
            "FROM pg_stat_activity WHERE pid = $1",
            pid,
        ):
            pass


@pytest.mark.parametrize("head", [0, 2], ids=["new-stream", "existing-stream"])
@pytest.mark.parametrize("first_writer", ["commits", "rolls-back"])
async def test_a_batch_that_waits_for_a_writer_of_its_stream_sees_what_that_writer_did(
    pool: asyncpg.Pool, head: int, first_writer: str
) -> None:
    async with pool.acquire() as first, pool.acquire() as second, pool.acquire() as watcher:
        if head:
            await append(first, "shared", 0, [new_event() for _ in range(head)])
        transaction = first.transaction()
        await transaction.start()
        try:
            first_outcomes = await append_batch(
                first, [pending("shared", head, "first"), pending("first-own", 0, "f")]
            )
            waiting = asyncio.create_task(
                append_batch(second, [pending("second-own", 0, "s"), pending("shared", head, "2")])
            )
            await _wait_until_blocked_on_a_lock(watcher, second.get_server_pid())
        finally:
            if first_writer == "commits":
                await transaction.commit()
            else:
                await transaction.rollback()
        second_outcomes = await waiting

        assert [landed(item).version for item in first_outcomes] == [head + 1, 1]
        assert landed(second_outcomes[0]).version == 1
        if first_writer == "commits":
            conflict = refused(second_outcomes[1])
            assert conflict.actual_version == head + 1
            assert await labels(watcher, "shared") == [*["x"] * head, "first"]
        else:
            assert landed(second_outcomes[1]).version == head + 1
            assert await labels(watcher, "shared") == [*["x"] * head, "2"]
        await assert_log_is_consistent(watcher)


async def _deadlocks(conn: Connection) -> int:
    return int(
        await conn.fetchval(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        )
    )


async def test_batches_naming_the_same_streams_in_crossed_orders_do_not_deadlock(
    pool: asyncpg.Pool,
) -> None:
    async with (
        pool.acquire() as holder,
        pool.acquire() as left,
        pool.acquire() as right,
        pool.acquire() as watcher,
    ):
        for stream_id in ("a", "b"):
            await append(holder, stream_id, 0, [new_event()])
        deadlocks = await _deadlocks(watcher)
        # Stream a's head is held (not moved), so that both batches queue behind it with whatever
        # they locked before it; then it is let go.
        holding = holder.transaction()
        await holding.start()
        await holder.execute("SELECT FROM streams WHERE stream_id = 'a' FOR UPDATE")
        batches = [
            asyncio.create_task(
                append_batch(conn, [pending(stream_id, 1, name) for stream_id in order])
            )
            for conn, name, order in ((left, "left", "ab"), (right, "right", "ba"))
        ]
        for conn in (left, right):
            await _wait_until_blocked_on_a_lock(watcher, conn.get_server_pid())
        await holding.commit()
        left_outcomes, right_outcomes = await asyncio.gather(*batches)

        assert await _deadlocks(watcher) == deadlocks
        # One batch took both streams' version 2; the other was refused on both.
        landed_left = [isinstance(item, AppendResult) for item in left_outcomes]
        landed_right = [isinstance(item, AppendResult) for item in right_outcomes]
        assert sorted([landed_left, landed_right]) == [[False, False], [True, True]]
        winner = "left" if landed_left[0] else "right"
        for stream_id in ("a", "b"):
            assert await labels(watcher, stream_id) == ["x", winner]
        await assert_log_is_consistent(watcher)


async def test_an_empty_batch_writes_nothing(conn: Connection) -> None:
    assert await append_batch(conn, []) == []
    assert await conn.fetchval("SELECT count(*) FROM events") == 0
