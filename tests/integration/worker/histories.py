"""Goal histories written through the command handler while the worker service runs."""

import asyncio
import uuid
from datetime import timedelta
from uuid import UUID

import asyncpg

from domain.goals.commands import RecordProgress, SetGoal
from tests.integration.projections.goals import CLINIC_OPENED, NOW, THERAPIST, run, terms
from tests.waiting import wait_until


async def set_goals(pool: asyncpg.Pool, count: int) -> list[UUID]:
    goal_ids = [uuid.uuid4() for _ in range(count)]
    async with pool.acquire() as conn:
        for goal_id in goal_ids:
            await run(conn, SetGoal(goal_id, uuid.uuid4(), terms(), THERAPIST, NOW, CLINIC_OPENED))
    return goal_ids


class CheckInWriter:
    """Records check-ins in rounds, one per goal a round, and counts the events it wrote."""

    def __init__(self, pool: asyncpg.Pool, goal_ids: list[UUID]) -> None:
        self.pool = pool
        self.goal_ids = goal_ids
        self.written = 0
        self._rounds = 0

    async def write_round(self, goal_ids: list[UUID] | None = None) -> None:
        """One check-in for each of `goal_ids`, by default every goal of the writer."""
        self._rounds += 1
        # Each round is a minute further back, so no check-in lies in the future.
        occurred = NOW - timedelta(minutes=self._rounds)
        async with self.pool.acquire() as conn:
            for goal_id in self.goal_ids if goal_ids is None else goal_ids:
                command = RecordProgress(goal_id, uuid.uuid4(), 1, occurred, THERAPIST, NOW)
                await run(conn, command)
                self.written += 1

    async def write_rounds(
        self, rounds: int, pause: float = 0.0, goal_ids: list[UUID] | None = None
    ) -> None:
        for _ in range(rounds):
            await self.write_round(goal_ids)
            await asyncio.sleep(pause)

    async def write_until(
        self, stop: asyncio.Event, pause: float, goal_ids: list[UUID] | None = None
    ) -> None:
        while not stop.is_set():
            await self.write_round(goal_ids)
            await asyncio.sleep(pause)

    async def wait_for_more(self, than: int, within: float) -> bool:
        """Whether more than `than` events were written within `within` seconds."""

        async def more_written() -> bool:
            return self.written > than

        return await wait_until(more_written, within, interval=0.05)
