"""How an API process lives through a database outage: it answers 503 at once for what needs the
database, says once that the database is gone, watches for its return, and says so once more."""

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import asyncpg

from infra.db.outages import Outage, unreachable

T = TypeVar("T")

_FIRST_LOOK_SECONDS = 0.25
_LONGEST_WAIT_SECONDS = 5.0


class DatabaseWatch:
    """Made once per process in the app's lifespan; requests report what failed to it."""

    def __init__(self, pool: asyncpg.Pool, probe_timeout: float) -> None:
        self._pool = pool
        self._probe_timeout = probe_timeout
        self.outage = Outage("database")
        self._probe: asyncio.Task[None] | None = None
        self._unfinished: set[asyncio.Task[object]] = set()  # held, so that none is collected

    def failed(self, error: BaseException) -> None:
        self.outage.failed(error)
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._until_back())

    async def _until_back(self) -> None:
        """Tries the database, less often the longer it stays away, until it answers."""
        wait = _FIRST_LOOK_SECONDS
        while True:
            await asyncio.sleep(wait)
            try:
                await self.within(self._probe_timeout, self._pool.fetchval("SELECT 1"))
            except Exception as error:
                if not unreachable(error):
                    raise
                wait = min(wait * 2, _LONGEST_WAIT_SECONDS)
            else:
                self.outage.recovered()
                return

    async def within(self, seconds: float, work: Awaitable[T]) -> T:
        """`work`'s result if it comes within `seconds`, else TimeoutError at that moment.

        Cancelling a statement on a frozen server waits for the server (asyncpg sends it a
        cancel request and waits for the connection to be usable again): `asyncio.timeout` then
        ends long after its deadline. Here the work is left to end in the background, bounded by
        the pool's command timeout, and the caller goes on at once.
        """
        task: asyncio.Task[T] = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=seconds)
        if task in done:
            return task.result()
        self._unfinished.add(task)
        task.add_done_callback(self._settled)
        raise TimeoutError(f"no answer within {seconds} s")

    def _settled(self, task: "asyncio.Task[object]") -> None:
        self._unfinished.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: it was reported already, as a timeout

    async def close(self) -> None:
        pending = [task for task in (self._probe, *self._unfinished) if task is not None]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
