"""The worker service's checkpointer: a signed checkpoint every interval while events come, none
while nothing does, and never two checkpointers at once."""

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infra.audit.checkpoints import CHECKPOINT_LOCK, make_checkpoint
from infra.config import Settings
from infra.db.connection import Connection
from infra.eventstore.store import append
from services.worker.audit_checkpoints import run_audit_checkpoints
from tests.integration.audit.chain_log import verified, write_log
from tests.integration.eventstore.events import new_event
from tests.waiting import wait_until


async def _checkpoints(conn: Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM audit_checkpoints"))


def _made(conn: Connection, count: int) -> Callable[[], Awaitable[bool]]:
    async def held() -> bool:
        return await _checkpoints(conn) == count

    return held


async def test_the_checkpointer_signs_while_events_come(
    pool: asyncpg.Pool, database_url: str, conn: Connection
) -> None:
    key = Ed25519PrivateKey.generate()
    await write_log(conn)
    stop = asyncio.Event()
    settings = Settings(database_url=database_url, audit_checkpoint_seconds=0.05)
    running = asyncio.create_task(run_audit_checkpoints(settings, key, stop))
    try:
        assert await wait_until(_made(conn, 1), within=10, interval=0.02)
        await asyncio.sleep(0.3)  # several passes, and nothing new to sign
        assert await _checkpoints(conn) == 1
        await append(conn, "stream-a", 5, [new_event("later")])
        assert await wait_until(_made(conn, 2), within=10, interval=0.02)
    finally:
        stop.set()
        await running
    found = await verified(pool, key)
    assert found.intact
    assert found.checkpoints == 2


async def test_a_second_checkpointer_does_nothing_while_the_first_works(
    conn: Connection, pool: asyncpg.Pool
) -> None:
    key = Ed25519PrivateKey.generate()
    await write_log(conn)
    async with pool.acquire() as working:
        await working.execute("SELECT pg_advisory_lock($1)", CHECKPOINT_LOCK)
        assert await make_checkpoint(conn, key) is None
        await working.execute("SELECT pg_advisory_unlock($1)", CHECKPOINT_LOCK)
    assert await make_checkpoint(conn, key) is not None
