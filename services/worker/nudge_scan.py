"""The nudge scan's loop in the worker service: a pass every `NUDGE_SCAN_SECONDS`."""

import asyncio
import contextlib
from datetime import UTC, datetime

import asyncpg
import structlog

from infra.config import Settings
from infra.db.outages import Outage, unreachable
from infra.db.pool import close_pool, open_pool
from infra.nudges.email import email_channel
from infra.nudges.scanner import scan

log = structlog.get_logger(__name__)


async def scan_once(
    pool: asyncpg.Pool, settings: Settings, now: datetime, database: Outage
) -> None:
    try:
        async with pool.acquire(timeout=settings.database_acquire_timeout_seconds) as conn:
            scanned = await scan(
                conn,
                now,
                due_soon_days=settings.nudge_due_soon_days,
                email=email_channel(settings),
            )
    except Exception as error:
        if not unreachable(error):
            raise
        database.failed(error)  # the next pass finds the same work
        return
    database.recovered()
    if scanned is None:
        log.debug("nudge_scan_skipped", reason="another scanner holds the lock")
        return
    log.info(
        "nudge_scan",
        goals=scanned.goals,
        found=scanned.found,
        stored=scanned.stored,
        sent=scanned.delivered.sent,
        deferred=scanned.delivered.deferred,
        dropped=scanned.delivered.dropped,
    )


async def run_nudge_scan(settings: Settings, stop: asyncio.Event) -> None:
    pool = await open_pool(settings, min_size=1, max_size=1)
    database = Outage("database")
    try:
        while not stop.is_set():
            await scan_once(pool, settings, datetime.now(UTC), database)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=settings.nudge_scan_seconds)
    finally:
        await close_pool(pool, settings.database_command_timeout_seconds)
