"""Goals as a fold left them, kept so that a process folding a goal afresh reads only the events
after one (migration 0008, `goal_snapshots`).

A snapshot is a cache, never the truth: every event it folded is still in the log, a goal without
one is folded from its first event, and emptying the table loses nothing but time. Each row says
which fold made it (`domain.goals.state.FOLD_VERSION`); a process reads only rows of its own
fold, so a release that folds any event otherwise folds every goal afresh once, and replaces the
row. Rows are written by the API process that folded the goal, off the request's path, once it
has folded `SNAPSHOT_EVERY` events past the goal's last snapshot; so a cold load folds at most
about that many events, however long the goal's history.

A snapshot is read by goal id alone, before the request's own read has checked the caller: it is
used only as the base that read folds on, and the read still decides whether the caller may see
the goal.
"""

import asyncio
from uuid import UUID

import asyncpg
import msgspec
import structlog

from domain.goals.state import FOLD_VERSION, Goal
from domain.goals.view import GoalDetail
from infra.db.connection import Connection

SNAPSHOT_EVERY = 200
"""Events folded past a goal's last snapshot before the next one is kept."""

_log = structlog.get_logger(__name__)


class Snapshot(msgspec.Struct, frozen=True, gc=False):
    version: int
    state: Goal
    detail: GoalDetail


class _Folded(msgspec.Struct, frozen=True, gc=False):
    state: Goal
    detail: GoalDetail


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(_Folded).decode

_READ = "SELECT version, folded FROM goal_snapshots WHERE goal_id = $1 AND fold_version = $2"

# A newer snapshot, or one of another fold, is never replaced by an older one of this fold.
_KEEP = """
INSERT INTO goal_snapshots AS s (goal_id, fold_version, version, folded)
VALUES ($1, $2, $3, $4)
ON CONFLICT (goal_id) DO UPDATE
SET fold_version = EXCLUDED.fold_version, version = EXCLUDED.version, folded = EXCLUDED.folded,
    taken_at = now()
WHERE s.fold_version <> EXCLUDED.fold_version OR s.version < EXCLUDED.version
"""


async def read_snapshot(conn: Connection | asyncpg.Pool, goal_id: UUID) -> Snapshot | None:
    """The goal's latest snapshot of this fold; None if there is none, or none that decodes."""
    row = await conn.fetchrow(_READ, goal_id, FOLD_VERSION)
    if row is None:
        return None
    try:
        folded = _decode(row["folded"])
    except msgspec.DecodeError:
        return None  # a cache that cannot be read is folded again
    return Snapshot(row["version"], folded.state, folded.detail)


async def keep_snapshot(conn: Connection | asyncpg.Pool, goal_id: UUID, kept: Snapshot) -> None:
    if not kept.detail.totals_known:
        raise ValueError("a snapshot keeps known totals only")
    folded = _encode(_Folded(kept.state, kept.detail))
    await conn.execute(_KEEP, goal_id, FOLD_VERSION, kept.version, folded)


class SnapshotKeeper:
    """Writes snapshots in the background of the requests that folded them, one per goal at a
    time; a snapshot that fails to be written is only a cold load that folds more."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._writing: dict[UUID, asyncio.Task[None]] = {}

    def keep_later(self, goal_id: UUID, kept: Snapshot) -> None:
        if goal_id in self._writing:
            return
        task = asyncio.get_running_loop().create_task(self._keep(goal_id, kept))
        self._writing[goal_id] = task
        task.add_done_callback(lambda _: self._writing.pop(goal_id, None))

    async def _keep(self, goal_id: UUID, kept: Snapshot) -> None:
        try:
            await keep_snapshot(self._pool, goal_id, kept)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as error:
            _log.warning("snapshot_not_kept", goal_id=str(goal_id), error=repr(error))

    async def settled(self) -> None:
        """Waits for the snapshots being written (at shutdown, and in tests)."""
        await asyncio.gather(*list(self._writing.values()), return_exceptions=True)
