"""The relay and the reconciler: one loop in the worker service that hands the log to Dramatiq."""

import asyncio
import time
from datetime import timedelta
from uuid import UUID

import asyncpg
import redis
import structlog

from infra.config import Settings
from infra.db.connection import Connection
from infra.db.outages import Outage, describe, unreachable
from infra.db.pool import close_pool, open_pool
from infra.eventstore.signal import CHANNEL
from infra.projections.consumer import Consumer
from infra.projections.feed import lagging, relay_batch
from infra.projections.feed_consumer import FeedConsumer
from infra.projections.rebuild import rebuild_if_outdated
from infra.projections.registry import consumers, feed_consumers
from infra.projections.relay_health import RelayHealthRecorder

log = structlog.get_logger(__name__)

# Polling is the fallback that guarantees progress when a notification is missed.
POLL_SECONDS = 1.0
RECONCILE_EVERY_SECONDS = 5.0
FEED_BATCHES_PER_PASS = 20
# While the database or Redis is away, passes are tried less and less often, down to this.
LONGEST_RETRY_SECONDS = 5.0


class Relay:
    """The relay's loop and what it knows of the servers it depends on.

    Neither PostgreSQL nor Redis being away stops it: it starts without them, and a pass that
    fails for want of either is tried again later, with a backoff. Each outage is logged once
    when it starts and once when it ends. Nothing is lost meanwhile: a pass whose enqueue failed
    rolls back with its checkpoint, and a pass cut by a lost connection never committed.
    """

    def __init__(self, settings: Settings, pool: asyncpg.Pool) -> None:
        self._settings = settings
        self._pool = pool
        self.database = Outage("database")
        self.broker = Outage("broker")
        self._wake = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self._rebuild_checked = False
        self._reconciled_at = 0.0
        self._health = RelayHealthRecorder(pool, settings.database_acquire_timeout_seconds)

    async def run(self, stop: asyncio.Event) -> None:
        wait = POLL_SECONDS
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    async with self._health.recording_pass():
                        await self._pass()
                # redis-py's errors derive from neither OSError nor ConnectionError.
                except redis.RedisError as error:
                    self.broker.failed(error)
                    wait = min(wait * 2, LONGEST_RETRY_SECONDS)
                except Exception as error:
                    if not unreachable(error):
                        raise
                    self.database.failed(error)
                    wait = min(wait * 2, LONGEST_RETRY_SECONDS)
                else:
                    self.database.recovered()
                    wait = POLL_SECONDS
                    await self._keep_listening()
                await _first_of(self._wake, stop, at_most=wait)
        finally:
            if self._listener is not None:
                self._listener.terminate()

    async def _pass(self) -> None:
        if not self._rebuild_checked:
            await self._rebuild_if_outdated()
            self._rebuild_checked = True
        timeout = self._settings.database_acquire_timeout_seconds
        async with self._pool.acquire(timeout=timeout) as conn:
            while await relay_batch(conn, self._enqueue_for_all):
                pass
            for feed_consumer in feed_consumers():
                await _follow(conn, feed_consumer)
            if time.monotonic() - self._reconciled_at > RECONCILE_EVERY_SECONDS:
                older_than = timedelta(seconds=self._settings.reconcile_after_seconds)
                for consumer in consumers():
                    behind = await lagging(conn, consumer, older_than)
                    if behind:
                        log.warning(
                            "reconciler_requeued", consumer=consumer.name, goals=len(behind)
                        )
                        await self._enqueue(behind, [consumer])
                self._reconciled_at = time.monotonic()

    async def _rebuild_if_outdated(self) -> None:
        """On a connection of its own, free of the pool's time limits: a rebuild takes as long
        as the log is long."""
        conn = await asyncpg.connect(
            self._settings.database_url, timeout=self._settings.database_acquire_timeout_seconds
        )
        try:
            if await rebuild_if_outdated(conn, _log_progress):
                log.info("projection_rebuilt_at_start")
        finally:
            conn.terminate()

    async def _enqueue_for_all(self, goal_ids: list[UUID]) -> None:
        await self._enqueue(goal_ids, consumers())

    async def _enqueue(self, goal_ids: list[UUID], to: list[Consumer]) -> None:
        await _enqueue(goal_ids, to)
        self.broker.recovered()

    async def _keep_listening(self) -> None:
        """Listens for appends again if the connection that did was lost."""
        if self._listener is not None and not self._listener.is_closed():
            return
        try:
            self._listener = await asyncpg.connect(
                self._settings.database_url,
                timeout=self._settings.database_acquire_timeout_seconds,
            )
            await self._listener.add_listener(CHANNEL, lambda *_: self._wake.set())
        except Exception as error:
            if not unreachable(error):
                raise
            # Polling goes on meanwhile; a lost wake-up only costs a moment.
            log.warning("relay_listen_failed", error=describe(error))
            if self._listener is not None:
                self._listener.terminate()
            self._listener = None


async def _follow(conn: Connection, consumer: FeedConsumer) -> None:
    """Runs the consumer towards the feed's end, for `FEED_BATCHES_PER_PASS` batches at most:
    one far behind (a new one reads the log from its start) catches up over several passes
    without keeping the relay from the goals that move meanwhile. One that fails for a cause of
    its own (a bug, an event it cannot take) stays at its checkpoint and is tried again at the
    next pass: it holds back neither the relay nor the others. Losing the database ends the
    pass, as for the relay."""
    try:
        for _ in range(FEED_BATCHES_PER_PASS):
            if not await consumer.follow(conn):
                return
    except Exception as error:
        if unreachable(error):
            raise
        log.exception("feed_consumer_failed", consumer=consumer.name)


async def _first_of(wake: asyncio.Event, stop: asyncio.Event, at_most: float) -> None:
    waiters = {asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())}
    _, pending = await asyncio.wait(waiters, timeout=at_most, return_when=asyncio.FIRST_COMPLETED)
    for waiter in pending:
        waiter.cancel()


async def _enqueue(goal_ids: list[UUID], to: list[Consumer]) -> None:
    """One message per consumer and goal."""
    from services.worker.actors import ACTORS  # noqa: PLC0415 - binds the broker first

    def send() -> None:
        for consumer in to:
            for goal_id in goal_ids:
                ACTORS[consumer.name].send(str(goal_id))

    await asyncio.to_thread(send)


def _log_progress(done: int, total: int) -> None:
    log.info("projection_rebuild_progress", done=done, total=total)


async def run_relay(settings: Settings, stop: asyncio.Event) -> None:
    # Opens even while the database is down (infra/db/pool.py).
    pool = await open_pool(settings, min_size=1, max_size=2)
    try:
        await Relay(settings, pool).run(stop)
    finally:
        await close_pool(pool, settings.database_command_timeout_seconds)
