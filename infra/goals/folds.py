"""A per-process cache of folded goals.

Events never change, so a goal folded up to version v stays true forever; every load still
reads the events after v from the database, so the cache saves work and never serves stale
state. Only what is committed is cached: what was read, or a write whose statement committed
it; never a write still in its transaction.
"""

from collections import OrderedDict
from uuid import UUID

import msgspec

from domain.goals.events import GoalEvent
from domain.goals.state import Goal, fold
from domain.goals.view import GoalDetail, advance, goal_detail
from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.eventstore.store import read_stream
from infra.goals import codec
from infra.goals.streams import goal_stream


class FoldedGoal(msgspec.Struct, frozen=True, gc=False):
    version: int
    state: Goal
    detail: GoalDetail


class GoalFolds:
    def __init__(self, capacity: int = 20_000) -> None:
        self._capacity = capacity
        self._folded: OrderedDict[UUID, FoldedGoal] = OrderedDict()

    async def load(self, conn: Connection, goal_id: UUID) -> FoldedGoal | None:
        """The goal as committed now, or None if there is no such goal."""
        base = self.cached(goal_id)
        newer = await read_stream(conn, goal_stream(goal_id), base.version if base else 0)
        return self.advanced(goal_id, base, newer)

    def cached(self, goal_id: UUID) -> FoldedGoal | None:
        """The goal as far as it is folded here: read its events after this one's version."""
        return self._folded.get(goal_id)

    def advanced(
        self, goal_id: UUID, base: FoldedGoal | None, newer: list[RecordedEvent]
    ) -> FoldedGoal | None:
        """`base`, what `cached` gave before the read, with `newer`, the events read after it.

        Other requests may have folded the goal further meanwhile; the newest fold is kept.
        """
        if not newer:
            return base
        events: list[GoalEvent] = [codec.decode_event(item) for item in newer]
        if base is None:
            state, detail = fold(events), goal_detail(events)
        else:
            state, detail = fold(events, base.state), advance(base.detail, events)
        if not isinstance(state, Goal) or detail is None:
            return None
        return self.keep(goal_id, FoldedGoal(newer[-1].stream_version, state, detail))

    def keep(self, goal_id: UUID, folded: FoldedGoal) -> FoldedGoal:
        """Caches `folded`, a committed fold, unless a newer one is cached already."""
        kept = self._folded.get(goal_id)
        if kept is None or kept.version < folded.version:
            self._folded[goal_id] = folded
        self._folded.move_to_end(goal_id)
        while len(self._folded) > self._capacity:
            self._folded.popitem(last=False)
        return folded
