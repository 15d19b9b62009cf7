"""Sharing round trips between concurrent requests: what they submit while one batch is in
flight goes to the database together, as the next batch.

Nothing waits to fill a batch: a lone request goes at once, alone. Under load, the requests that
arrive during one round trip share the next one, so the cost per request of the round trip, the
statement and (for writes) the commit falls as the load rises.
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
    def __init__(
        self, pool: asyncpg.Pool, run: RunBatch[Item, Result], max_items: int = 128
    ) -> None:
        self._pool = pool
        self._run = run
        self._max_items = max_items
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._in_flight = False
        self._draining: asyncio.Task[None] | None = None  # held, so that it is not collected

    async def submit(self, item: Item) -> Result:
        if not self._in_flight:
            # Nothing on its way: go now, from this task, at the cost of running alone.
            self._in_flight = True
            try:
                (outcome,) = await self._outcomes([item])
            finally:
                self._in_flight = False
                self._drain_soon()
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        # A cancelled caller leaves its item in the batch: it may still run, like a statement
        # already sent when its caller gives up.
        return await future

    def _drain_soon(self) -> None:
        if self._pending and not self._in_flight:
            self._in_flight = True
            self._draining = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self._max_items]
                del self._pending[: self._max_items]
                outcomes = await self._outcomes([item for item, _ in batch])
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if future.done():
                        continue
                    if isinstance(outcome, Exception):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            self._in_flight = False
            self._drain_soon()

    async def _outcomes(self, items: list[Item]) -> Sequence[Result | Exception]:
        try:
            async with self._pool.acquire() as conn:
                return await self._run(conn, items)
        except Exception as error:  # each caller gets it, as if it ran alone
            return [error] * len(items)
