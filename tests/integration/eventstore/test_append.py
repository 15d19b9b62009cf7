import asyncio
import json

import asyncpg
import pytest

from infra.db.connection import Connection
from infra.eventstore.store import (
    EventIdConflict,
    WrongExpectedVersion,
    append,
    read_stream,
    stream_version,
)
from tests.integration.eventstore.events import METADATA, new_event


async def test_appends_in_order_and_reads_back_with_metadata(conn: Connection) -> None:
    first = await append(conn, "s-1", 0, [new_event("a"), new_event("b")])
    second = await append(conn, "s-1", 2, [new_event("c")])

    assert [item.stream_version for item in first.stored] == [1, 2]
    assert second.version == 3
    assert second.last_position > first.last_position
    recorded = await read_stream(conn, "s-1")
    assert [json.loads(item.data)["label"] for item in recorded] == ["a", "b", "c"]
    assert all(item.metadata == METADATA for item in recorded)
    assert [item.stream_version for item in await read_stream(conn, "s-1", 1)] == [2, 3]
    assert await stream_version(conn, "s-1") == 3


async def test_stale_expected_version_is_refused_with_the_current_one(
    conn: Connection,
) -> None:
    await append(conn, "s-2", 0, [new_event(), new_event()])

    with pytest.raises(WrongExpectedVersion) as refused:
        await append(conn, "s-2", 1, [new_event()])

    assert refused.value.actual_version == 2
    assert refused.value.expected_version == 1
    assert await stream_version(conn, "s-2") == 2


async def test_a_new_stream_cannot_be_started_twice(conn: Connection) -> None:
    await append(conn, "s-3", 0, [new_event()])

    with pytest.raises(WrongExpectedVersion) as refused:
        await append(conn, "s-3", 0, [new_event()])

    assert refused.value.actual_version == 1


@pytest.mark.parametrize("writers", [2, 12])
async def test_concurrent_appends_at_one_version_admit_exactly_one(
    pool: asyncpg.Pool, writers: int
) -> None:
    for expected in range(5):

        async def attempt(expected: int = expected) -> int | WrongExpectedVersion:
            async with pool.acquire() as conn:
                try:
                    return (await append(conn, "contended", expected, [new_event()])).version
                except WrongExpectedVersion as conflict:
                    return conflict

        outcomes = await asyncio.gather(*(attempt() for _ in range(writers)))

        winners = [outcome for outcome in outcomes if isinstance(outcome, int)]
        losers = [outcome for outcome in outcomes if isinstance(outcome, WrongExpectedVersion)]
        assert winners == [expected + 1]
        assert {loser.actual_version for loser in losers} == {expected + 1}
    async with pool.acquire() as conn:
        versions = [item.stream_version for item in await read_stream(conn, "contended")]
    assert versions == [1, 2, 3, 4, 5]


async def test_resending_the_same_events_returns_the_original_positions(
    conn: Connection,
) -> None:
    batch = [new_event("a"), new_event("b")]
    original = await append(conn, "s-4", 0, batch)
    await append(conn, "s-4", 2, [new_event("later")])

    again = await append(conn, "s-4", 0, batch)

    assert again.replayed
    assert again.stored == original.stored
    assert len(await read_stream(conn, "s-4")) == 3


async def test_reusing_some_event_ids_in_another_append_is_refused(
    conn: Connection,
) -> None:
    reused = new_event("a")
    await append(conn, "s-5", 0, [reused])

    with pytest.raises(EventIdConflict):
        await append(conn, "s-5", 0, [reused, new_event("b")])
    with pytest.raises(EventIdConflict):
        await append(conn, "other", 0, [reused])
    assert len(await read_stream(conn, "s-5")) == 1


async def test_a_failed_append_inside_a_transaction_keeps_it_usable(
    conn: Connection,
) -> None:
    await append(conn, "s-6", 0, [new_event()])
    async with conn.transaction():
        with pytest.raises(WrongExpectedVersion):
            await append(conn, "s-6", 0, [new_event()])
        await append(conn, "s-6", 1, [new_event()])
    assert await stream_version(conn, "s-6") == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET event_type = 'rewritten'",
        "DELETE FROM events",
        "TRUNCATE events",
        "UPDATE events SET data = '{}' WHERE stream_version = 1",
    ],
)
async def test_the_log_refuses_to_change_or_lose_events(
    conn: Connection, admin_conn: Connection, statement: str
) -> None:
    await append(conn, "s-7", 0, [new_event("kept")])

    # The service may not even try (tests/integration/db/test_privileges.py); its owner is
    # stopped by the log's triggers.
    with pytest.raises(asyncpg.RestrictViolationError, match="append-only"):
        await admin_conn.execute(statement)

    recorded = await read_stream(conn, "s-7")
    assert [(item.event_type, json.loads(item.data)["label"]) for item in recorded] == [
        ("test_happened", "kept")
    ]
