"""The worker service's signed checkpoints of the log: one every `AUDIT_CHECKPOINT_SECONDS` when
events came since the last, by whichever worker service holds the lock
(infra/audit/checkpoints.py)."""

import asyncio
import contextlib

import asyncpg
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infra.audit.checkpoints import make_checkpoint
from infra.config import Settings
from infra.db.outages import Outage, unreachable
from infra.db.pool import close_pool, open_pool

log = structlog.get_logger(__name__)


async def checkpoint_once(
    pool: asyncpg.Pool, settings: Settings, key: Ed25519PrivateKey, database: Outage
) -> None:
    try:
        async with pool.acquire(timeout=settings.database_acquire_timeout_seconds) as conn:
            made = await make_checkpoint(conn, key)
    except Exception as error:
        if not unreachable(error):
            raise
        database.failed(error)  # the next pass covers what this one would have
        return
    database.recovered()
    if made is None:
        log.debug("audit_checkpoint_skipped", reason="nothing new, or another checkpointer")
        return
    log.info(
        "audit_checkpoint",
        sequence=made.facts.sequence,
        events=made.facts.events,
        last_position=made.facts.last_position,
    )


async def run_audit_checkpoints(
    settings: Settings, key: Ed25519PrivateKey, stop: asyncio.Event
) -> None:
    pool = await open_pool(settings, min_size=1, max_size=1)
    database = Outage("database")
    try:
        while not stop.is_set():
            await checkpoint_once(pool, settings, key, database)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=settings.audit_checkpoint_seconds)
    finally:
        await close_pool(pool, settings.database_command_timeout_seconds)
