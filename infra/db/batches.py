"""Sharing round trips between concurrent requests: what they submit in one turn of the event
loop, or while every batch slot is taken, goes to the database together, as one batch.

Nothing waits for a batch to fill: what is submitted goes at the end of the loop's turn, if a slot
is free. A turn is what the loop does with the events of one wake-up: requests that arrived
together, or the requests a batch's answer resumed, all reach their next statement before the
turn ends, and so share it. Under load, the requests that arrive during the round trips in flight
share the next one too, so the cost per request of the round trip, the statement and (for writes)
the commit falls as the load rises.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import asyncpg

from infra.db.connection import Connection

Item = TypeVar("Item")
Result = TypeVar("Result")

RunBatch = Callable[[Connection, list[Item]], Awaitable[Sequence[Result | Exception]]]
"""Runs a batch on a connection: one result, or the exception to raise, per item, in order."""


class Batcher(Generic[Item, Result]):
    """Up to `max_in_flight` batches at a time, of up to `max_items` items each."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        run: RunBatch[Item, Result],
        *,
        max_in_flight: int = 2,
        max_items: int = 128,
        acquire_timeout: float | None = None,
    ) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout
        self._run = run
        self._max_in_flight = max_in_flight
        self._max_items = max_items
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._in_flight = 0
        self._turn_end_scheduled = False
        self._settling: set[asyncio.Task[None]] = set()  # held, so that none is collected

    async def submit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._pending.append((item, future))
        if not self._turn_end_scheduled:
            self._turn_end_scheduled = True
            loop.call_soon(self._end_turn)
        # A cancelled caller leaves its item in the batch: it may still run, like a statement
        # already sent when its caller gives up.
        return await future

    def _end_turn(self) -> None:
        self._turn_end_scheduled = False
        self._send_pending()

    def _send_pending(self) -> None:
        while self._pending and self._in_flight < self._max_in_flight:
            batch = self._pending[: self._max_items]
            del self._pending[: self._max_items]
            self._in_flight += 1
            task = asyncio.get_running_loop().create_task(self._settle(batch))
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)

    async def _settle(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            outcomes = await self._outcomes([item for item, _ in batch])
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
        finally:
            self._in_flight -= 1
            self._send_pending()

    async def _outcomes(self, items: list[Item]) -> Sequence[Result | Exception]:
        try:
            async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                outcomes = await self._run(conn, items)
        except Exception as error:  # each caller gets it, as if it ran alone
            return [error] * len(items)
        if len(outcomes) != len(items):
            broken = RuntimeError(f"a batch of {len(items)} gave {len(outcomes)} outcomes")
            return [broken] * len(items)
        return outcomes
