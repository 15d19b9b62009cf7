"""How goal writes and reads reach PostgreSQL. Concurrent requests share round trips: their reads,
and their appends made outside a transaction, go in batches (infra/db/batches.py)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import asyncpg

from domain.goals.view import CheckInTotals
from infra.db.batches import Batcher
from infra.db.connection import Connection
from infra.eventstore.envelope import AppendResult, NewEvent, RecordedEvent
from infra.eventstore.signal import AppendSignal
from infra.eventstore.store import PendingAppend, append_batch, read_stream
from infra.goals.check_ins import totals_at
from infra.goals.check_ins_at_once import AttemptOutcome, CheckInAttempt, read_and_append
from infra.goals.request_read import RequestKey, RequestRead, read_for_requests
from infra.goals.snapshots import Snapshot, read_snapshot


class GoalStore:
    def __init__(
        self,
        pool: asyncpg.Pool,
        batch_pool: asyncpg.Pool,
        signal: AppendSignal,
        acquire_timeout: float | None = None,
    ) -> None:
        """`batch_pool` serves the batches alone: a request may hold a connection of `pool`
        while it waits for a batch, so the batches must not need one of those."""
        self._pool = pool
        self._signal = signal
        self._acquire_timeout = acquire_timeout
        self._reads: Batcher[RequestKey, RequestRead] = Batcher(
            batch_pool, read_for_requests, acquire_timeout=acquire_timeout
        )
        self._appends: Batcher[PendingAppend, AppendResult] = Batcher(
            batch_pool, append_batch, acquire_timeout=acquire_timeout
        )
        # One batch in flight, not two: check-ins that arrive while it is on its way share the
        # next one, where with a slot free each would go alone; fewer, fuller statements cost
        # PostgreSQL less per check-in at the same peak (docs/benchmarks.md).
        self._check_ins: Batcher[CheckInAttempt, AttemptOutcome] = Batcher(
            batch_pool, read_and_append, max_in_flight=1, acquire_timeout=acquire_timeout
        )

    async def read(self, key: RequestKey) -> RequestRead:
        return await self._reads.submit(key)

    async def append(
        self, stream_id: str, expected_version: int, events: list[NewEvent]
    ) -> AppendResult:
        appended = await self._appends.submit(PendingAppend(stream_id, expected_version, events))
        self._signal.appended()
        return appended

    async def check_in_at_once(self, attempt: CheckInAttempt) -> AttemptOutcome:
        outcome = await self._check_ins.submit(attempt)
        if outcome.appended is not None:
            self._signal.appended()
        return outcome

    @property
    def pool(self) -> asyncpg.Pool:
        return self._pool

    async def stream(self, stream_id: str) -> list[RecordedEvent]:
        async with self.reading() as conn:
            return await read_stream(conn, stream_id)

    async def snapshot(self, goal_id: UUID) -> Snapshot | None:
        async with self.reading() as conn:
            return await read_snapshot(conn, goal_id)

    async def check_in_totals(self, goal_id: UUID, version: int) -> CheckInTotals:
        async with self.reading() as conn:
            return await totals_at(conn, goal_id, version)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Connection]:
        """A connection of the request's own, for a read that shares no batch."""
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            yield conn

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A connection of the request's own, for what cannot share: transactions and locks."""
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            yield conn
        self._signal.appended()
