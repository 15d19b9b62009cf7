"""A per-process cache of folded goals.

Events never change, so a goal folded up to version v stays true forever; every load still
reads the events after v from the database, so the cache saves work and never serves stale
state. Only what is committed is cached: what was read, or a write whose statement committed
it; never a write still in its transaction. A goal this process has not folded starts from its
snapshot, if it has one (infra/goals/snapshots.py). A fold is the same size at any length of the
goal's history (domain/goals/state.py), so the cache's memory is bounded by its capacity.
"""

from collections import OrderedDict
from uuid import UUID

import msgspec

from domain.goals.events import GoalEvent
from domain.goals.state import Goal, fold
from domain.goals.view import CheckInTotals, GoalDetail, advance, goal_detail, with_totals
from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.eventstore.store import read_stream
from infra.goals import codec
from infra.goals.check_ins import totals_at
from infra.goals.snapshots import SNAPSHOT_EVERY, Snapshot, read_snapshot
from infra.goals.streams import goal_stream


class FoldedGoal(msgspec.Struct, frozen=True, gc=False):
    version: int
    state: Goal
    detail: GoalDetail
    snapshot_version: int = 0
    """The version of the goal's latest snapshot that this process read or kept (0: none)."""

    @classmethod
    def of(cls, snapshot: Snapshot) -> "FoldedGoal":
        return cls(snapshot.version, snapshot.state, snapshot.detail, snapshot.version)

    def snapshot(self) -> Snapshot | None:
        """A snapshot to keep, once the fold is far enough past the last one."""
        if self.version - self.snapshot_version < SNAPSHOT_EVERY or not self.detail.totals_known:
            return None
        return Snapshot(self.version, self.state, self.detail)


class GoalFolds:
    def __init__(self, capacity: int = 20_000) -> None:
        self._capacity = capacity
        self._folded: OrderedDict[UUID, FoldedGoal] = OrderedDict()

    async def load(self, conn: Connection, goal_id: UUID) -> FoldedGoal | None:
        """The goal as committed now (as `conn` sees it), or None if there is no such goal."""
        base = self.cached(goal_id)
        if base is None:
            snapshot = await read_snapshot(conn, goal_id)
            base = None if snapshot is None else FoldedGoal.of(snapshot)
        newer = await read_stream(conn, goal_stream(goal_id), base.version if base else 0)
        folded = self.advanced(goal_id, base, newer)
        if folded is None or folded.detail.totals_known:
            return folded
        totals = await totals_at(conn, goal_id, folded.version)
        return self.keep(goal_id, self.counted(folded, totals))

    def cached(self, goal_id: UUID) -> FoldedGoal | None:
        """The goal as far as it is folded here: read its events after this one's version."""
        return self._folded.get(goal_id)

    def advanced(
        self, goal_id: UUID, base: FoldedGoal | None, newer: list[RecordedEvent]
    ) -> FoldedGoal | None:
        """`base`, what `cached` gave before the read, with `newer`, the events read after it.

        Other requests may have folded the goal further meanwhile; the newest fold is kept. A
        fold whose check-in totals a correction left unknown is not kept: its reader counts them
        (`infra.goals.check_ins.totals_at`) and keeps it `counted`.
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
        snapshot_version = base.snapshot_version if base else 0
        folded = FoldedGoal(newer[-1].stream_version, state, detail, snapshot_version)
        return self.keep(goal_id, folded) if detail.totals_known else folded

    @staticmethod
    def counted(folded: FoldedGoal, totals: CheckInTotals) -> FoldedGoal:
        return msgspec.structs.replace(folded, detail=with_totals(folded.detail, totals))

    def keep(self, goal_id: UUID, folded: FoldedGoal) -> FoldedGoal:
        """Caches `folded`, a committed fold with known totals, unless a newer one is cached."""
        if not folded.detail.totals_known:
            raise ValueError("a fold is kept with its check-in totals counted")
        kept = self._folded.get(goal_id)
        if kept is not None and kept.version == folded.version:
            newest_snapshot = max(kept.snapshot_version, folded.snapshot_version)
            folded = msgspec.structs.replace(folded, snapshot_version=newest_snapshot)
        if kept is None or kept.version <= folded.version:
            self._folded[goal_id] = folded
        self._folded.move_to_end(goal_id)
        while len(self._folded) > self._capacity:
            self._folded.popitem(last=False)
        return folded
