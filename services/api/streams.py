"""Answers that stream (a client's record, the audit export) read on one pool connection, held
from the request's start until the answer's last byte has gone, and at most
`API_MAX_CONCURRENT_STREAMS` of them at once in a process.

One connection, not two: the caller is authenticated and checked on the same connection the
answer then streams from. Taking a second one while holding the first deadlocks under load (a
full pool of requests each waiting for a second connection that only their own release would
free) until every one of them times out with a 503.

A bounded number: a stream keeps its connection as long as its reader reads, minutes for a large
export, so without a bound a few auditors could hold the whole pool and every other read would
wait. Past the bound a streaming request waits for a stream to finish, like any request waits
for a pool connection, for up to `DATABASE_ACQUIRE_TIMEOUT_SECONDS`; then it answers 503
`too_many_streams` with `Retry-After`. So the other `DATABASE_POOL_MAX` minus
`API_MAX_CONCURRENT_STREAMS` connections always serve the other reads.

The connection and the slot are given back by the route's own middleware once the answer has
been sent or has failed, and only after the answer's chunks are closed: a reader that leaves
mid-stream leaves the generator suspended, and its snapshot's ROLLBACK, run whenever the
generator is collected, must reach this connection while it is still this request's, never
one that another request has taken since.
"""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from litestar import Request
from litestar.di import Provide
from litestar.response import Stream
from litestar.types import ASGIApp, Receive, Scope, Send

from infra.config import Settings
from services.api.errors import RETRY_AFTER, Problem

_HELD = "streaming_connection"
_CHUNKS = "streaming_chunks"


class StreamSlots:
    """How many answers may stream at once in this process."""

    def __init__(self, limit: int, wait_seconds: float) -> None:
        self._free = asyncio.Semaphore(limit)
        self._wait_seconds = wait_seconds

    @asynccontextmanager
    async def taken(self) -> AsyncIterator[None]:
        try:
            await asyncio.wait_for(self._free.acquire(), self._wait_seconds)
        except TimeoutError:
            raise Problem(
                503,
                "too_many_streams",
                "As many records and exports as this server streams at once are streaming; "
                "send the request again shortly.",
                headers=dict(RETRY_AFTER),
            ) from None
        try:
            yield
        finally:
            self._free.release()


def holding_a_connection(app: ASGIApp) -> ASGIApp:
    """Route middleware: a stream slot, then one connection, for the whole request and answer."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        state = scope["app"].state
        slots: StreamSlots = state.stream_slots
        pool: asyncpg.Pool = state.pool
        settings: Settings = state.settings
        async with (
            slots.taken(),
            pool.acquire(timeout=settings.database_acquire_timeout_seconds) as conn,
        ):
            held = scope.setdefault("state", {})
            held[_HELD] = conn
            try:
                await app(scope, receive, send)
            finally:
                chunks: AsyncGenerator[bytes, None] | None = held.pop(_CHUNKS, None)
                if chunks is not None:
                    await chunks.aclose()

    return middleware


def provide_held_connection(request: Request) -> PoolConnectionProxy:
    """The `conn` of a streaming route: the connection its middleware holds."""
    held: PoolConnectionProxy = request.scope["state"][_HELD]
    return held


STREAMING_DEPENDENCIES = {"conn": Provide(provide_held_connection, sync_to_thread=False)}


def streamed(request: Request, chunks: AsyncGenerator[bytes, None], media_type: str) -> Stream:
    """The answer of a streaming route: `chunks`, read from the held connection, are closed
    before the connection goes back."""
    request.scope["state"][_CHUNKS] = chunks
    return Stream(chunks, media_type=media_type)
