"""Rebuilding the goal projection from the whole log while the service runs.

Every goal is folded from its own stream in version order, as the incremental path folds it,
from one consistent snapshot of the log: the feed's order is no order within a stream (see
docs/event-log.md). The folds go into fresh `*_next` tables, never the live ones; the switch
then catches the fresh tables up with whatever was written since the snapshot and puts them in
place of the live ones, in one transaction. Readers see either the old tables or the new, and
the new are never behind the old. An interrupted rebuild drops its fresh tables, and the next
one drops any that a killed one left.
"""

from datetime import timedelta
from uuid import UUID

import msgspec
import structlog

from domain.goals.summary import CheckInChange, EventFacts, GoalSummary, check_in_change, summarize
from infra.db.connection import Connection
from infra.eventstore.envelope import RecordedEvent
from infra.eventstore.store import EVENT_COLUMNS, recorded_event
from infra.goals import codec
from infra.goals.streams import goal_of_stream, is_goal_stream_sql
from infra.projections.consumer import Consumer, Progress, Rebuilt, StalledGoal
from infra.projections.feed import lagging_goals
from infra.projections.goal_summaries import (
    LIVE,
    SUMMARY_COLUMNS,
    ProjectionTables,
    project_goal,
    summary_row,
)

log = structlog.get_logger(__name__)

GOAL_SUMMARIES = "goal_summaries"
# Raise when the projection's code changes what it stores: workers then rebuild at start.
GOAL_SUMMARIES_VERSION = 1
NEXT = ProjectionTables(
    "goal_summaries_next", "goal_check_ins_next", "projection_dead_letters_next", shared=False
)
_PAIRS = (
    (LIVE.summaries, NEXT.summaries),
    (LIVE.check_ins, NEXT.check_ins),
    (LIVE.dead_letters, NEXT.dead_letters),
)
_PREFETCH = 20_000
_NO_AGE = timedelta(0)
# Any constant works; it keeps two rebuilds from writing the same fresh tables.
_REBUILD_LOCK = 7_140_003

# Ordered as the unique index on (stream_id, stream_version) is, so the server reads it in order.
_GOAL_EVENTS = f"""
SELECT {EVENT_COLUMNS} FROM events WHERE {is_goal_stream_sql("stream_id")}
ORDER BY stream_id, stream_version
"""  # noqa: S608 - constant fragments
_GOAL_EVENT_COUNT = f"""
SELECT count(*) FROM events WHERE {is_goal_stream_sql("stream_id")}
"""  # noqa: S608 - constant fragments


class _Fold:
    """The projection in memory, built stream by stream, each in version order."""

    def __init__(self) -> None:
        self.summaries: dict[UUID, GoalSummary] = {}
        self.check_ins: dict[UUID, CheckInChange] = {}
        self.stalled: dict[UUID, tuple[RecordedEvent, Exception]] = {}

    def apply(self, recorded: RecordedEvent) -> None:
        goal_id = goal_of_stream(recorded.stream_id)
        if goal_id is None:
            raise ValueError(f"{recorded.stream_id} is not a goal's stream")
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
            self.stalled[goal_id] = (recorded, error)
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


async def _fold_snapshot(conn: Connection, progress: Progress) -> _Fold:
    """Folds the log as one snapshot shows it. The transaction only reads, so it takes no
    transaction id and holds no one's feed back; a stream's committed versions always form a
    prefix (its head row lets one writer at a time move it), so the snapshot shows each stream
    whole up to some version. The server streams the rows; only the fold is kept."""
    fold = _Fold()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        total = int(await conn.fetchval(_GOAL_EVENT_COUNT))
        done = 0
        async for row in conn.cursor(_GOAL_EVENTS, prefetch=_PREFETCH):
            fold.apply(recorded_event(row))
            done += 1
            if done % _PREFETCH == 0:
                progress(done, max(total, done))
        progress(done, max(total, done))
    return fold


async def _drop_next_tables(conn: Connection) -> None:
    for _, fresh in _PAIRS:
        await conn.execute(f"DROP TABLE IF EXISTS {fresh}")


async def _write_next_tables(conn: Connection, fold: _Fold) -> None:
    """Fills fresh tables, each statement committed on its own: a transaction open for all of
    it would hold the feed back for as long (see read_all)."""
    for live, fresh in _PAIRS:
        await conn.execute(f"CREATE TABLE {fresh} (LIKE {live} INCLUDING ALL)")
    summaries = [
        summary_row(summary, fold.stalled[goal_id][0].stream_version)
        if goal_id in fold.stalled
        else summary_row(summary)
        for goal_id, summary in fold.summaries.items()
    ]
    await conn.copy_records_to_table(NEXT.summaries, records=summaries, columns=SUMMARY_COLUMNS)
    check_ins = [
        (item.check_in_id, item.goal_id, item.amount, item.occurred_at, item.entered_in_error)
        for item in fold.check_ins.values()
    ]
    await conn.copy_records_to_table(
        NEXT.check_ins,
        records=check_ins,
        columns=["check_in_id", "goal_id", "amount", "occurred_at", "entered_in_error"],
    )
    dead_letters = [
        (recorded.event_id, goal_id, recorded.position, f"{type(error).__name__}: {error}")
        for goal_id, (recorded, error) in fold.stalled.items()
    ]
    await conn.copy_records_to_table(
        NEXT.dead_letters,
        records=dead_letters,
        columns=["event_id", "goal_id", "position", "error"],
    )


async def _catch_up(conn: Connection, tables: ProjectionTables) -> int:
    """Applies to `tables` what was written since they were folded, goal by goal."""
    applied = 0
    for goal_id in await lagging_goals(conn, older_than=_NO_AGE, limit=None, tables=tables):
        applied += (await project_goal(conn, goal_id, tables)).applied
    return applied


async def _stalled(conn: Connection, tables: ProjectionTables) -> list[StalledGoal]:
    rows = await conn.fetch(
        f"SELECT d.goal_id, e.stream_version, d.error FROM {tables.dead_letters} d "  # noqa: S608
        "JOIN events e ON e.event_id = d.event_id ORDER BY d.goal_id, e.stream_version"
    )
    return [StalledGoal(row["goal_id"], row["stream_version"], row["error"]) for row in rows]


async def _switch(conn: Connection) -> list[StalledGoal]:
    async with conn.transaction():
        await conn.execute(
            f"LOCK TABLE {', '.join(live for live, _ in _PAIRS)} IN ACCESS EXCLUSIVE MODE"
        )
        # The live tables may have gone on since the catch-up before the lock: catch up again
        # now that nothing moves them, so that the switch never takes a goal backwards.
        caught_up = await _catch_up(conn, NEXT)
        stalled = await _stalled(conn, NEXT)
        for live, fresh in _PAIRS:
            await conn.execute(f"ALTER TABLE {live} RENAME TO {live}_old")
            await conn.execute(f"ALTER TABLE {fresh} RENAME TO {live}")
            await conn.execute(f"DROP TABLE {live}_old")
        await conn.execute(
            """
            INSERT INTO projection_versions (projection, version) VALUES ($1, $2)
            ON CONFLICT (projection) DO UPDATE SET version = $2, rebuilt_at = now()
            """,
            GOAL_SUMMARIES,
            GOAL_SUMMARIES_VERSION,
        )
    log.info("projection_switched", caught_up_events=caught_up)
    return stalled


async def rebuild_goal_summaries(conn: Connection, progress: Progress) -> Rebuilt:
    """Replays the log into fresh tables and switches to them; says which goals stalled."""
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


async def _rebuild(conn: Connection, progress: Progress) -> Rebuilt:
    await _drop_next_tables(conn)  # left by a rebuild that was killed
    try:
        fold = await _fold_snapshot(conn, progress)
        await _write_next_tables(conn, fold)
        # Most of what was written during the fold, before the switch locks the readers out.
        await _catch_up(conn, NEXT)
        stalled = await _switch(conn)
    finally:
        await _drop_next_tables(conn)  # after a switch there are none
    for goal in stalled:
        log.error(
            "projection_goal_stalled",
            goal_id=str(goal.goal_id),
            version=goal.version,
            error=goal.error,
        )
    log.info("projection_rebuilt", goals=len(fold.summaries), stalled=len(stalled))
    return Rebuilt(len(fold.summaries), stalled)


async def needs_rebuild(conn: Connection) -> bool:
    built: int | None = await conn.fetchval(
        "SELECT version FROM projection_versions WHERE projection = $1", GOAL_SUMMARIES
    )
    return built != GOAL_SUMMARIES_VERSION


CONSUMER = Consumer(
    name=GOAL_SUMMARIES,
    version=GOAL_SUMMARIES_VERSION,
    tables=(LIVE.summaries, LIVE.check_ins, LIVE.dead_letters),
    apply=project_goal,
    progress=LIVE.summaries,
    dead_letters=LIVE.dead_letters,
    dead_letter_table=LIVE.dead_letters,
    rebuild=rebuild_goal_summaries,
    # The queue its messages have always gone to.
    queue="projections",
)
