"""Tampering with the event log directly in SQL, as a superuser, is found by verification every
time, at the position where the chain breaks; a log left alone verifies."""

import uuid

import asyncpg
import pytest

from infra.db.connection import Connection
from tests.integration.audit.chain_log import (
    CLINIC,
    STREAMS,
    position_of,
    tamper,
    verified,
    write_log,
)


@pytest.fixture(autouse=True)
async def log(conn: Connection) -> None:
    await write_log(conn)


async def test_a_log_left_alone_verifies(pool: asyncpg.Pool, conn: Connection) -> None:
    found = await verified(pool)

    assert found.intact
    assert (found.events, found.breaks, found.first_break) == (sum(STREAMS.values()), 0, None)
    assert (await verified(pool, clinic=CLINIC)).intact


async def test_an_edited_field_is_found_at_its_event(
    pool: asyncpg.Pool, conn: Connection, admin_conn: Connection
) -> None:
    edited = await position_of(conn, "stream-b", 3)

    await tamper(
        admin_conn,
        "UPDATE events SET data = jsonb_set(data, '{label}', '\"edited\"') "
        f"WHERE position = {edited}",
    )

    found = await verified(pool)
    assert not found.intact
    assert found.first_break is not None
    assert (found.first_break.kind, found.first_break.position) == ("content_changed", edited)
    assert found.breaks == 1


@pytest.mark.parametrize(
    "change",
    [
        "metadata = jsonb_set(metadata, '{actor_role}', '\"admin\"')",
        "event_type = 'other_happened'",
        "recorded_at = recorded_at + interval '1 microsecond'",
        "event_id = gen_random_uuid()",
        "transaction_id = (SELECT max(transaction_id) FROM events)",
    ],
)
async def test_every_stored_field_is_covered(
    pool: asyncpg.Pool, conn: Connection, admin_conn: Connection, change: str
) -> None:
    edited = await position_of(conn, "stream-a", 2)

    await tamper(admin_conn, f"UPDATE events SET {change} WHERE position = {edited}")

    found = await verified(pool)
    assert found.first_break is not None
    assert (found.first_break.kind, found.first_break.position) == ("content_changed", edited)


async def test_an_edit_with_its_hash_recomputed_breaks_the_next_link(
    pool: asyncpg.Pool, conn: Connection, admin_conn: Connection
) -> None:
    edited = await position_of(conn, "stream-b", 3)
    after = await position_of(conn, "stream-b", 4)

    await tamper(
        admin_conn,
        f'UPDATE events SET data = \'{{"label": "rewritten"}}\' WHERE position = {edited}',
        "UPDATE events e SET hash = event_chain_hash(e.previous_hash, e) "
        f"WHERE position = {edited}",
    )

    found = await verified(pool)
    assert found.first_break is not None
    assert (found.first_break.kind, found.first_break.position) == ("link_broken", after)


async def test_a_deleted_event_is_found_where_its_stream_skips_it(
    pool: asyncpg.Pool, conn: Connection, admin_conn: Connection
) -> None:
    deleted = await position_of(conn, "stream-a", 3)
    after = await position_of(conn, "stream-a", 4)

    await tamper(admin_conn, f"DELETE FROM events WHERE position = {deleted}")

    found = await verified(pool)
    assert found.first_break is not None
    assert (found.first_break.kind, found.first_break.position) == ("version_missing", after)
    assert found.first_break.detail == "version 4 follows version 2"


async def test_a_deleted_last_event_is_found_at_the_streams_head(
    pool: asyncpg.Pool, conn: Connection, admin_conn: Connection
) -> None:
    deleted = await position_of(conn, "stream-c", 3)
    now_last = await position_of(conn, "stream-c", 2)

    await tamper(admin_conn, f"DELETE FROM events WHERE position = {deleted}")

    found = await verified(pool)
    assert found.first_break is not None
    assert (found.first_break.kind, found.first_break.position) == ("head_mismatch", now_last)


async def test_an_event_inserted_between_two_is_found_where_the_versions_moved(
    pool: asyncpg.Pool, conn: Connection, admin_conn: Connection
) -> None:
    first_moved = await position_of(conn, "stream-a", 3)
    # The forged event takes version 3, properly chained to version 2; the later versions move
    # up one, and the stream's head with them. Only their stored hashes are left as they were.
    await tamper(
        admin_conn,
        "UPDATE events SET stream_version = stream_version + 100 "
        "WHERE stream_id = 'stream-a' AND stream_version >= 3",
        "UPDATE events SET stream_version = stream_version - 99 "
        "WHERE stream_id = 'stream-a' AND stream_version > 100",
        "UPDATE streams SET version = version + 1 WHERE stream_id = 'stream-a'",
    )
    await admin_conn.execute(
        """
        INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
        SELECT 'stream-a', 3, gen_random_uuid(), event_type, '{"label": "forged"}', metadata
        FROM events WHERE stream_id = 'stream-a' AND stream_version = 2
        """
    )

    found = await verified(pool)
    assert found.first_break is not None
    assert (found.first_break.kind, found.first_break.position) == ("content_changed", first_moved)


async def test_an_event_added_at_a_streams_end_without_its_head_is_found(
    pool: asyncpg.Pool, conn: Connection, admin_conn: Connection
) -> None:
    inserted = await admin_conn.fetchval(
        """
        INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
        SELECT stream_id, 6, gen_random_uuid(), event_type, '{"label": "added"}', metadata
        FROM events WHERE stream_id = 'stream-b' AND stream_version = 5
        RETURNING position
        """
    )

    found = await verified(pool)
    assert found.first_break is not None
    assert (found.first_break.kind, found.first_break.position) == ("head_mismatch", inserted)


async def test_a_copied_row_is_found_at_its_new_place(
    pool: asyncpg.Pool, conn: Connection, admin_conn: Connection
) -> None:
    copied = await position_of(conn, "stream-b", 2)
    # A copy of a whole row, its hashes too, as a new stream's first event.
    await tamper(
        admin_conn,
        "INSERT INTO streams (stream_id, version) VALUES ('stream-z', 1)",
        "INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata, "
        "previous_hash, hash) SELECT 'stream-z', 1, gen_random_uuid(), event_type, data, "
        f"metadata, previous_hash, hash FROM events WHERE position = {copied}",
    )
    inserted = await position_of(conn, "stream-z", 1)

    found = await verified(pool)
    assert found.first_break is not None
    assert (found.first_break.kind, found.first_break.position) == ("content_changed", inserted)


async def test_two_events_swapped_in_their_stream_are_found(
    pool: asyncpg.Pool, conn: Connection, admin_conn: Connection
) -> None:
    second = await position_of(conn, "stream-a", 2)

    await tamper(
        admin_conn,
        "UPDATE events SET stream_version = 100 WHERE stream_id = 'stream-a' "
        "AND stream_version = 2",
        "UPDATE events SET stream_version = 2 WHERE stream_id = 'stream-a' AND stream_version = 4",
        "UPDATE events SET stream_version = 4 WHERE stream_id = 'stream-a' "
        "AND stream_version = 100",
    )

    found = await verified(pool)
    assert found.first_break is not None
    assert (found.first_break.kind, found.first_break.position) == ("content_changed", second)


async def test_two_rows_swapped_in_the_logs_order_are_found(
    pool: asyncpg.Pool, conn: Connection, admin_conn: Connection
) -> None:
    one, other = await position_of(conn, "stream-a", 2), await position_of(conn, "stream-b", 4)
    # Each row moved whole, hashes and all, to the other's position.
    await tamper(
        admin_conn,
        "CREATE TEMPORARY TABLE swapped ON COMMIT DROP AS SELECT * FROM events "
        f"WHERE position IN ({one}, {other})",
        f"DELETE FROM events WHERE position IN ({one}, {other})",
        f"UPDATE swapped SET position = {one} + {other} - position",
        "INSERT INTO events OVERRIDING SYSTEM VALUE SELECT * FROM swapped",
    )

    found = await verified(pool)
    assert found.first_break is not None
    assert (found.first_break.kind, found.first_break.position) == ("content_changed", one)
    assert found.breaks == 2


async def test_a_clinics_verification_walks_the_streams_that_began_in_it(
    pool: asyncpg.Pool, conn: Connection, admin_conn: Connection
) -> None:
    edited = await position_of(conn, "stream-a", 2)
    await tamper(
        admin_conn,
        "UPDATE events SET metadata = jsonb_set(metadata, '{clinic_id}', "
        f"'\"00000000-0000-0000-0000-000000000009\"') WHERE position = {edited}",
    )

    mine = await verified(pool, clinic=CLINIC)
    assert mine.first_break is not None
    assert (mine.first_break.kind, mine.first_break.position) == ("content_changed", edited)
    assert mine.events == sum(STREAMS.values())
    others = await verified(pool, clinic=uuid.UUID(int=9))
    assert (others.events, others.breaks) == (0, 0)
