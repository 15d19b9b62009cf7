"""A consumer that keeps its place per goal in `consumer_progress` (migration 0007): all a new
consumer of the log writes is what it does with a goal's new events.

`follower(...)` makes the `Consumer` the registry lists. Its `apply` reads the goal's stream from
the version the consumer stored, in version order, hands the new events to the consumer's
`handle`, and stores the new version in the same transaction as whatever `handle` wrote: a
duplicated or reordered message finds nothing new. An event `handle` cannot take (it raises
anything but a database error) goes to `consumer_dead_letters`, and the goal stops for this
consumer at the version before it, as the goal summaries do; database errors are raised, so that
the message is tried again. Every other consumer, and every other goal, goes on.
"""

from collections.abc import Awaitable, Callable
from uuid import UUID

import asyncpg
import structlog

from infra.db.connection import Connection
from infra.db.outages import unreachable
from infra.eventstore.envelope import RecordedEvent
from infra.eventstore.store import read_stream
from infra.goals.streams import goal_stream
from infra.projections.consumer import Consumer, Progress, Progressed, Rebuilt, StalledGoal

log = structlog.get_logger(__name__)

Handle = Callable[[Connection, UUID, list[RecordedEvent]], Awaitable[None]]
"""Does the consumer's work for a goal's new events, given in version order, on `conn`, inside
the transaction that stores its progress."""
Reset = Callable[[Connection], Awaitable[None]]
"""Empties the consumer's tables, before a rebuild."""

# Live applies hold a consumer's key shared, a rebuild holds it alone; each goal has its own.
_CONSUMER_LOCK = "SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 8))"
_CONSUMER_ALONE = "SELECT pg_advisory_xact_lock(hashtextextended($1, 8))"
_GOAL_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 9))"


def follower(
    name: str, version: int, tables: tuple[str, ...], handle: Handle, reset: Reset | None = None
) -> Consumer:
    """A consumer whose progress and dead letters live in the shared tables; rebuildable when it
    can `reset` its own tables."""

    async def apply(conn: Connection, goal_id: UUID) -> Progressed:
        async with conn.transaction():
            await conn.execute(_CONSUMER_LOCK, name)
            return await _apply(conn, name, handle, goal_id)

    async def rebuild(conn: Connection, progress: Progress) -> Rebuilt:
        async with conn.transaction():
            await conn.execute(_CONSUMER_ALONE, name)
            if reset is not None:
                await reset(conn)
            return await _fold_all(conn, name, version, handle, progress)

    # The consumer's name is checked to be an identifier (Consumer.__post_init__).
    where = f"WHERE consumer = '{name}'"
    return Consumer(
        name=name,
        version=version,
        tables=tables,
        apply=apply,
        progress=f"(SELECT goal_id, version, stalled_at_version FROM consumer_progress {where})",  # noqa: S608
        dead_letters=f"(SELECT goal_id FROM consumer_dead_letters {where})",  # noqa: S608
        dead_letter_table="consumer_dead_letters",
        rebuild=None if reset is None else rebuild,
    )


def _cannot_apply(error: Exception) -> bool:
    """An error in the consumer's own code, as opposed to the database's: trying again later
    would fail the same way."""
    return not (
        unreachable(error) or isinstance(error, asyncpg.PostgresError | asyncpg.InterfaceError)
    )


async def _apply(conn: Connection, name: str, handle: Handle, goal_id: UUID) -> Progressed:
    await conn.execute(_GOAL_LOCK, name, str(goal_id))
    row = await conn.fetchrow(
        "SELECT version, stalled_at_version FROM consumer_progress "
        "WHERE consumer = $1 AND goal_id = $2",
        name,
        goal_id,
    )
    if row is not None and row["stalled_at_version"] is not None:
        return Progressed(0, stalled=True)
    pending = await read_stream(conn, goal_stream(goal_id), 0 if row is None else row["version"])
    if not pending:
        return Progressed(0)
    try:
        async with conn.transaction():  # a savepoint: a failed batch leaves nothing behind
            await handle(conn, goal_id, pending)
        applied = pending
    except Exception as error:
        if not _cannot_apply(error):
            raise
        return await _one_by_one(conn, name, handle, goal_id, pending)
    await _save_progress(conn, name, goal_id, applied[-1])
    return Progressed(len(applied))


async def _one_by_one(
    conn: Connection, name: str, handle: Handle, goal_id: UUID, pending: list[RecordedEvent]
) -> Progressed:
    """Applies the events before the one that fails, and stalls the goal at that one."""
    for applied, event in enumerate(pending):
        try:
            async with conn.transaction():
                await handle(conn, goal_id, [event])
        except Exception as error:
            if not _cannot_apply(error):
                raise
            if applied:
                await _save_progress(conn, name, goal_id, pending[applied - 1])
            await _dead_letter(conn, name, goal_id, event, error)
            return Progressed(applied, stalled=True)
    await _save_progress(conn, name, goal_id, pending[-1])
    return Progressed(len(pending))


async def _save_progress(conn: Connection, name: str, goal_id: UUID, last: RecordedEvent) -> None:
    await conn.execute(
        """
        INSERT INTO consumer_progress (consumer, goal_id, version, last_position, updated_at)
        VALUES ($1, $2, $3, $4, now())
        ON CONFLICT (consumer, goal_id) DO UPDATE SET version = EXCLUDED.version,
            last_position = EXCLUDED.last_position, updated_at = now()
        """,
        name,
        goal_id,
        last.stream_version,
        last.position,
    )


async def _dead_letter(
    conn: Connection, name: str, goal_id: UUID, event: RecordedEvent, error: Exception
) -> None:
    await conn.execute(
        "INSERT INTO consumer_dead_letters (consumer, event_id, goal_id, position, error) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (consumer, event_id) DO NOTHING",
        name,
        event.event_id,
        goal_id,
        event.position,
        f"{type(error).__name__}: {error}",
    )
    await conn.execute(
        """
        INSERT INTO consumer_progress (consumer, goal_id, version, last_position,
            stalled_at_version)
        VALUES ($1, $2, $3 - 1, 0, $3)
        ON CONFLICT (consumer, goal_id)
            DO UPDATE SET stalled_at_version = EXCLUDED.stalled_at_version
        """,
        name,
        goal_id,
        event.stream_version,
    )
    log.error(
        "consumer_event_failed",
        consumer=name,
        goal_id=str(goal_id),
        position=event.position,
        error=str(error),
    )


async def _fold_all(
    conn: Connection, name: str, version: int, handle: Handle, progress: Progress
) -> Rebuilt:
    """Folds every goal afresh, in the rebuild's transaction, which the live applies wait for.
    It holds the feed back while it runs (see read_all): right for a consumer whose work is
    small; the goal summaries rebuild into fresh tables instead."""
    await conn.execute("DELETE FROM consumer_progress WHERE consumer = $1", name)
    await conn.execute("DELETE FROM consumer_dead_letters WHERE consumer = $1", name)
    goal_ids = [
        row["goal_id"]
        for row in await conn.fetch(
            "SELECT substr(stream_id, 6)::uuid AS goal_id FROM streams "
            "WHERE stream_id LIKE 'goal-%' ORDER BY stream_id"
        )
    ]
    for done, goal_id in enumerate(goal_ids, 1):
        await _apply(conn, name, handle, goal_id)
        progress(done, len(goal_ids))
    await conn.execute(
        """
        INSERT INTO projection_versions (projection, version) VALUES ($1, $2)
        ON CONFLICT (projection) DO UPDATE SET version = $2, rebuilt_at = now()
        """,
        name,
        version,
    )
    rows = await conn.fetch(
        "SELECT d.goal_id, e.stream_version, d.error FROM consumer_dead_letters d "
        "JOIN events e ON e.event_id = d.event_id WHERE d.consumer = $1 "
        "ORDER BY d.goal_id, e.stream_version",
        name,
    )
    stalled = [StalledGoal(row["goal_id"], row["stream_version"], row["error"]) for row in rows]
    log.info("consumer_rebuilt", consumer=name, goals=len(goal_ids), stalled=len(stalled))
    return Rebuilt(len(goal_ids), stalled)
