"""Rebuilding the goal projection from the whole log while the service runs.

The log is folded into fresh tables, which then replace the live ones in one transaction; goals
that moved on meanwhile are caught up right after. Readers see either the old tables or the new.
"""

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

import msgspec
import structlog

from domain.goals.summary import CheckInChange, EventFacts, GoalSummary, check_in_change, summarize
from infra.db.connection import Connection
from infra.eventstore import codec
from infra.eventstore.envelope import FeedCheckpoint, RecordedEvent
from infra.eventstore.store import checkpoint_of, read_all
from infra.projections.feed import lagging_goals
from infra.projections.goal_summaries import (
    SUMMARY_COLUMNS,
    project_goal,
    record_dead_letter,
    summary_row,
)

log = structlog.get_logger(__name__)

GOAL_SUMMARIES = "goal_summaries"
# Raise when the projection's code changes what it stores: workers then rebuild at start.
GOAL_SUMMARIES_VERSION = 1
_TABLES = ("goal_summaries", "goal_check_ins")
_BATCH = 20_000
_NO_AGE = timedelta(0)
# Any constant works; it keeps two rebuilds from writing the same fresh tables.
_REBUILD_LOCK = 7_140_003

Progress = Callable[[int, int], None]


class _Fold:
    """The whole projection in memory, built event by event."""

    def __init__(self) -> None:
        self.summaries: dict[UUID, GoalSummary] = {}
        self.check_ins: dict[UUID, CheckInChange] = {}
        self.stalled: dict[UUID, tuple[int, RecordedEvent, Exception]] = {}

    def apply(self, recorded: RecordedEvent) -> None:
        if not recorded.stream_id.startswith("goal-"):
            return
        goal_id = UUID(recorded.stream_id[5:])
        if goal_id in self.stalled:
            return
        try:
            event = codec.decode_event(recorded)
            facts = EventFacts(
                recorded.stream_version,
                recorded.position,
                recorded.recorded_at,
                recorded.metadata.clinic_id,
            )
            self.summaries[goal_id] = summarize(self.summaries.get(goal_id), event, facts)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as error:
            self.stalled[goal_id] = (recorded.stream_version, recorded, error)
            return
        change = check_in_change(event)
        if change is None:
            return
        if change.entered_in_error:
            if known := self.check_ins.get(change.check_in_id):
                self.check_ins[change.check_in_id] = msgspec.structs.replace(
                    known, entered_in_error=True
                )
        else:
            self.check_ins.setdefault(change.check_in_id, change)


async def _fold_log(conn: Connection, progress: Progress) -> _Fold:
    total = int(await conn.fetchval("SELECT count(*) FROM events"))
    fold = _Fold()
    checkpoint, done = FeedCheckpoint(), 0
    while batch := await read_all(conn, checkpoint, _BATCH):
        for recorded in batch:
            fold.apply(recorded)
        checkpoint = checkpoint_of(batch[-1])
        done += len(batch)
        progress(done, max(total, done))
    return fold


async def _write_next_tables(conn: Connection, fold: _Fold) -> None:
    for table in _TABLES:
        await conn.execute(f"DROP TABLE IF EXISTS {table}_next")
        await conn.execute(f"CREATE TABLE {table}_next (LIKE {table} INCLUDING ALL)")
    summaries = [
        summary_row(summary, fold.stalled[goal_id][0] if goal_id in fold.stalled else None)
        for goal_id, summary in fold.summaries.items()
    ]
    await conn.copy_records_to_table(
        "goal_summaries_next", records=summaries, columns=SUMMARY_COLUMNS
    )
    check_ins = [
        (item.check_in_id, item.goal_id, item.amount, item.occurred_at, item.entered_in_error)
        for item in fold.check_ins.values()
    ]
    await conn.copy_records_to_table(
        "goal_check_ins_next",
        records=check_ins,
        columns=["check_in_id", "goal_id", "amount", "occurred_at", "entered_in_error"],
    )
    for goal_id, (_, recorded, error) in fold.stalled.items():
        await record_dead_letter(conn, goal_id, recorded, error)


async def _switch(conn: Connection) -> None:
    async with conn.transaction():
        await conn.execute(f"LOCK TABLE {', '.join(_TABLES)} IN ACCESS EXCLUSIVE MODE")
        for table in _TABLES:
            await conn.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
            await conn.execute(f"ALTER TABLE {table}_next RENAME TO {table}")
            await conn.execute(f"DROP TABLE {table}_old")
        await conn.execute(
            """
            INSERT INTO projection_versions (projection, version) VALUES ($1, $2)
            ON CONFLICT (projection) DO UPDATE SET version = $2, rebuilt_at = now()
            """,
            GOAL_SUMMARIES,
            GOAL_SUMMARIES_VERSION,
        )


async def rebuild_goal_summaries(conn: Connection, progress: Progress) -> int:
    """Replays the log into fresh tables and switches to them; returns the goals rebuilt."""
    await conn.execute("SELECT pg_advisory_lock($1)", _REBUILD_LOCK)
    try:
        return await _rebuild(conn, progress)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _REBUILD_LOCK)


async def rebuild_if_outdated(conn: Connection, progress: Progress) -> bool:
    """Rebuilds when the tables were built by another version of the projection's code."""
    if not await needs_rebuild(conn):
        return False
    await conn.execute("SELECT pg_advisory_lock($1)", _REBUILD_LOCK)
    try:
        if not await needs_rebuild(conn):
            return False  # another worker rebuilt it while this one waited
        await _rebuild(conn, progress)
        return True
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _REBUILD_LOCK)


async def _rebuild(conn: Connection, progress: Progress) -> int:
    fold = await _fold_log(conn, progress)
    await _write_next_tables(conn, fold)
    await _switch(conn)
    # One pass over what moved on during the fold; anything later is the relay's as usual.
    caught_up = 0
    for goal_id in await lagging_goals(conn, older_than=_NO_AGE, limit=1_000_000):
        caught_up += (await project_goal(conn, goal_id)).applied
    log.info("projection_rebuilt", goals=len(fold.summaries), caught_up_events=caught_up)
    return len(fold.summaries)


async def needs_rebuild(conn: Connection) -> bool:
    built = await conn.fetchval(
        "SELECT version FROM projection_versions WHERE projection = $1", GOAL_SUMMARIES
    )
    return built != GOAL_SUMMARIES_VERSION
