"""A per-process cache of folded goals.

Events never change, so a goal folded up to version v stays true forever; every load still
reads the events after v from the database, so the cache saves work and never serves stale
state. Only what was read as committed is cached, never a write still in its transaction.
"""

from collections import OrderedDict
from uuid import UUID

import msgspec

from domain.goals.events import GoalEvent
from domain.goals.state import Goal, fold
from domain.goals.view import GoalDetail, advance, goal_detail
from infra.db.connection import Connection
from infra.eventstore import codec
from infra.eventstore.store import read_stream
from infra.goals.streams import goal_stream


class FoldedGoal(msgspec.Struct, frozen=True):
    version: int
    state: Goal
    detail: GoalDetail


class GoalFolds:
    def __init__(self, capacity: int = 20_000) -> None:
        self._capacity = capacity
        self._folded: OrderedDict[UUID, FoldedGoal] = OrderedDict()

    async def load(self, conn: Connection, goal_id: UUID) -> FoldedGoal | None:
        """The goal as committed now, or None if there is no such goal."""
        cached = self._folded.get(goal_id)
        newer = await read_stream(conn, goal_stream(goal_id), cached.version if cached else 0)
        if not newer:
            return cached
        events: list[GoalEvent] = [codec.decode_event(item) for item in newer]
        if cached is None:
            state, detail = fold(events), goal_detail(events)
        else:
            state, detail = fold(events, cached.state), advance(cached.detail, events)
        if not isinstance(state, Goal) or detail is None:
            return None
        folded = FoldedGoal(newer[-1].stream_version, state, detail)
        self._folded[goal_id] = folded
        self._folded.move_to_end(goal_id)
        while len(self._folded) > self._capacity:
            self._folded.popitem(last=False)
        return folded
