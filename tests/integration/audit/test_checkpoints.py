"""Signed checkpoints: made by one checkpointer at a time, covering exactly the events below
their fence, and verified: a rewrite that the hash chains alone cannot see (the chain recomputed,
the head moved with it) is found by the first checkpoint that covered what changed, and a
checkpoint that was altered or signed by another key is reported."""

import asyncio

import asyncpg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infra.audit.checkpoints import make_checkpoint
from infra.db.connection import Connection
from infra.eventstore.store import append
from tests.integration.audit.chain_log import position_of, tamper, verified, write_log
from tests.integration.eventstore.events import new_event


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(autouse=True)
async def log(conn: Connection) -> None:
    await write_log(conn)


async def test_checkpoints_cover_the_log_and_verify(
    pool: asyncpg.Pool, conn: Connection, key: Ed25519PrivateKey
) -> None:
    first = await make_checkpoint(conn, key)
    assert await make_checkpoint(conn, key) is None  # nothing new since
    await append(conn, "stream-a", 5, [new_event("later")])
    second = await make_checkpoint(conn, key)

    assert first is not None
    assert second is not None
    assert (first.facts.sequence, first.facts.events) == (1, 13)
    assert (second.facts.sequence, second.facts.events) == (2, 14)
    assert second.facts.previous_digest == first.facts.digest
    assert second.facts.last_position == await position_of(conn, "stream-a", 6)
    found = await verified(pool, key)
    assert found.intact
    assert found.signatures_checked
    assert (found.checkpoints, found.whole_at) == (2, second.taken_at)


async def test_a_checkpoint_waits_for_no_append_and_leaves_out_those_still_running(
    conn: Connection, pool: asyncpg.Pool, key: Ed25519PrivateKey
) -> None:
    async with pool.acquire() as writer, writer.transaction():
        await append(writer, "stream-a", 5, [new_event("still running")])
        made = await asyncio.wait_for(make_checkpoint(conn, key), timeout=5)
    assert made is not None
    assert made.facts.events == 13
    later = await make_checkpoint(conn, key)
    assert later is not None
    assert later.facts.events == 14
    assert (await verified(pool, key)).intact


async def test_a_rewrite_the_chains_cannot_see_is_found_by_the_checkpoint(
    pool: asyncpg.Pool, conn: Connection, admin_conn: Connection, key: Ed25519PrivateKey
) -> None:
    await make_checkpoint(conn, key)
    # The last event of a stream removed and its head moved back: every chain still holds.
    removed = await position_of(conn, "stream-c", 3)
    await tamper(
        admin_conn,
        f"DELETE FROM events WHERE position = {removed}",
        "UPDATE streams SET version = 2 WHERE stream_id = 'stream-c'",
    )

    found = await verified(pool, key)
    assert (found.breaks, found.intact) == (0, False)
    assert found.first_checkpoint_problem is not None
    assert found.first_checkpoint_problem.sequence == 1
    assert found.first_checkpoint_problem.kind == "events_changed"
    assert found.whole_at is None


async def test_an_event_backdated_below_a_checkpoint_is_found(
    pool: asyncpg.Pool, conn: Connection, admin_conn: Connection, key: Ed25519PrivateKey
) -> None:
    await make_checkpoint(conn, key)
    # A whole new stream, well chained by the log's own trigger, with an old transaction id.
    await admin_conn.execute(
        """
        INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata,
            transaction_id)
        SELECT 'stream-x', 1, gen_random_uuid(), event_type, '{"label": "backdated"}',
            metadata, transaction_id
        FROM events ORDER BY position LIMIT 1
        """
    )
    await admin_conn.execute("INSERT INTO streams (stream_id, version) VALUES ('stream-x', 1)")

    found = await verified(pool, key)
    assert found.breaks == 0
    assert found.first_checkpoint_problem is not None
    assert (found.first_checkpoint_problem.sequence, found.first_checkpoint_problem.kind) == (
        1,
        "events_changed",
    )


async def test_an_altered_checkpoint_is_reported(
    pool: asyncpg.Pool, conn: Connection, admin_conn: Connection, key: Ed25519PrivateKey
) -> None:
    await make_checkpoint(conn, key)
    await tamper(admin_conn, "UPDATE audit_checkpoints SET events = events - 1")

    found = await verified(pool, key)
    assert found.first_checkpoint_problem is not None
    assert (found.first_checkpoint_problem.sequence, found.first_checkpoint_problem.kind) == (
        1,
        "signature_invalid",
    )


async def test_a_checkpoint_signed_by_another_key_is_reported(
    pool: asyncpg.Pool, conn: Connection, key: Ed25519PrivateKey
) -> None:
    await make_checkpoint(conn, Ed25519PrivateKey.generate())

    found = await verified(pool, key)
    assert found.first_checkpoint_problem is not None
    assert found.first_checkpoint_problem.kind == "signed_by_another_key"


async def test_the_service_may_not_change_a_checkpoint(
    conn: Connection, key: Ed25519PrivateKey
) -> None:
    await make_checkpoint(conn, key)

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute("UPDATE audit_checkpoints SET events = 0")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await conn.execute("DELETE FROM audit_checkpoints")
