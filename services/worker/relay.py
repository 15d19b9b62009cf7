"""The relay and the reconciler: one loop in the worker service that hands the log to Dramatiq."""

import asyncio
import time
from datetime import timedelta
from uuid import UUID

import asyncpg
import redis
import structlog

from infra.config import Settings
from infra.db.pool import open_pool
from infra.eventstore.signal import CHANNEL
from infra.projections.feed import lagging_goals, relay_batch
from infra.projections.rebuild import rebuild_if_outdated
from infra.projections.relay_health import RelayHealthRecorder

log = structlog.get_logger(__name__)

# Polling is the fallback that guarantees progress when a notification is missed.
POLL_SECONDS = 1.0
RECONCILE_EVERY_SECONDS = 5.0


async def _enqueue(goal_ids: list[UUID]) -> None:
    from services.worker.actors import project_goal  # noqa: PLC0415 - binds the broker first

    def send() -> None:
        for goal_id in goal_ids:
            project_goal.send(str(goal_id))

    await asyncio.to_thread(send)


def _log_progress(done: int, total: int) -> None:
    log.info("projection_rebuild_progress", done=done, total=total)


async def _listen(settings: Settings, wake: asyncio.Event) -> asyncpg.Connection | None:
    try:
        listener = await asyncpg.connect(settings.database_url)
        await listener.add_listener(CHANNEL, lambda *_: wake.set())
    except (OSError, asyncpg.PostgresError) as error:
        log.warning("relay_listen_failed", error=str(error))
        return None
    return listener


async def run_relay(settings: Settings, stop: asyncio.Event) -> None:
    pool = await open_pool(settings, min_size=1, max_size=2)
    async with pool.acquire() as conn:
        if await rebuild_if_outdated(conn, _log_progress):
            log.info("projection_rebuilt_at_start")
    wake = asyncio.Event()
    listener = await _listen(settings, wake)
    reconciled_at = 0.0
    older_than = timedelta(seconds=settings.reconcile_after_seconds)
    health = RelayHealthRecorder(pool)
    try:
        while not stop.is_set():
            wake.clear()
            try:
                async with health.recording_pass(), pool.acquire() as conn:
                    while await relay_batch(conn, _enqueue):
                        pass
                    if time.monotonic() - reconciled_at > RECONCILE_EVERY_SECONDS:
                        lagging = await lagging_goals(conn, older_than)
                        if lagging:
                            log.warning("reconciler_requeued", goals=len(lagging))
                            await _enqueue(lagging)
                        reconciled_at = time.monotonic()
            # redis-py's errors derive from neither OSError nor ConnectionError. A failed enqueue
            # rolls its batch back with the checkpoint, so the next pass sends it again.
            except (OSError, asyncpg.PostgresError, ConnectionError, redis.RedisError) as error:
                log.warning("relay_pass_failed", error=str(error))
            if listener is None or listener.is_closed():
                listener = await _listen(settings, wake)
            waiters = {asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())}
            _, pending = await asyncio.wait(
                waiters, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in pending:
                waiter.cancel()
    finally:
        if listener is not None:
            await listener.close()
        await pool.close()
