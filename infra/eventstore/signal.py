"""Waking the relay after commits, without slowing the commits down.

A NOTIFY inside a writing transaction serialises every such commit on one server-wide lock, held
until the commit is on disk. So writers only raise a flag after they commit, and one task per
process sends a single NOTIFY for all the commits since its last one.
"""

import asyncio

import asyncpg
import structlog

log = structlog.get_logger(__name__)

CHANNEL = "events_appended"
# At most this many notifications a second from one process, however many commits.
_SPACING_SECONDS = 0.02


class AppendSignal:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._pending = asyncio.Event()

    def appended(self) -> None:
        self._pending.set()

    async def run(self) -> None:
        while True:
            await self._pending.wait()
            self._pending.clear()
            try:
                async with self._pool.acquire() as conn:
                    await conn.execute("SELECT pg_notify($1, '')", CHANNEL)
            except (OSError, asyncpg.PostgresError) as error:
                # The relay polls as well; a lost wake-up only costs it a moment.
                log.warning("append_signal_failed", error=str(error))
            await asyncio.sleep(_SPACING_SECONDS)
