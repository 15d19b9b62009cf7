"""The one path every goal command takes: load the stream, decide, append."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from uuid import UUID

import msgspec

from domain.goals.commands import GoalCommand
from domain.goals.decider import decide
from domain.goals.events import GoalEvent
from domain.goals.state import GoalState, NoGoal, fold
from infra.db.connection import Connection, atomic
from infra.eventstore import codec
from infra.eventstore.envelope import AppendResult, Metadata, NewEvent
from infra.eventstore.store import WrongExpectedVersion, append, read_stream
from infra.goals.folds import GoalFolds
from infra.goals.streams import goal_stream

# Without an expected version the write applies to the latest one; if another writer gets in
# between our read and our append, deciding again on the newer state is still correct. After a
# first conflict the writer queues behind the goal's other contended writers (an advisory lock
# held to the end of its transaction), so under contention it waits its turn instead of losing
# race after race; the uncontended path pays nothing for it.
#
# One lock order for every transaction that writes to a goal: its idempotency key, then the
# goal's queue lock, then the stream's head row. An append locks the head row even when it fails
# (`INSERT ... ON CONFLICT ... WHERE` locks the row it conflicts with whatever the WHERE says), so
# a transaction that appended first and queued after would hold the head while waiting for the
# queue, whose holder waits for the head: a deadlock. Inside a transaction the queue lock
# therefore comes before the first append. Statements on their own (the shared batches, the
# one-trip check-ins) hold heads only while they run and never wait for the queue.
_LATEST_ATTEMPTS = 10


class CommandContext(msgspec.Struct, frozen=True):
    """Why and within which flow a command is run; becomes the events' metadata.

    `command_id` makes the event ids deterministic, so running the same command twice (a retry
    after a lost reply) appends nothing the second time.
    """

    command_id: UUID
    clinic_id: UUID | None
    correlation_id: str
    causation_id: str | None = None
    reason: str | None = None
    token_id: UUID | None = None
    """The credential the command was sent with."""


class Handled(msgspec.Struct, frozen=True):
    events: list[GoalEvent]
    state: GoalState
    appended: AppendResult


async def load_goal(conn: Connection, goal_id: UUID) -> tuple[GoalState, int]:
    recorded = await read_stream(conn, goal_stream(goal_id))
    state = fold([codec.decode_event(item) for item in recorded])
    return state, (recorded[-1].stream_version if recorded else 0)


def new_events(
    events: list[GoalEvent], command: GoalCommand, context: CommandContext
) -> list[NewEvent]:
    metadata = Metadata(
        actor_id=command.actor.user_id,
        actor_role=command.actor.role,
        clinic_id=context.clinic_id,
        correlation_id=context.correlation_id,
        causation_id=context.causation_id,
        reason=context.reason,
        token_id=context.token_id,
    )
    return [
        NewEvent(
            event_id=uuid.uuid5(context.command_id, str(index)),
            event_type=codec.event_type(event),
            data=codec.encode_event(event),
            metadata=metadata,
        )
        for index, event in enumerate(events)
    ]


AppendTo = Callable[[str, int, list[NewEvent]], Awaitable[AppendResult]]
"""Appends events to a stream after an expected version, like `store.append` on a connection."""


async def handle(
    conn: Connection,
    command: GoalCommand,
    context: CommandContext,
    expected_version: int | None = None,
    loaded: tuple[GoalState, int] | None = None,
    *,
    folds: GoalFolds | None = None,
) -> Handled:
    """Decides `command` on the goal's current state and appends what it decides.

    Raises `GoalRuleViolation` when a rule forbids the command and `WrongExpectedVersion` when
    `expected_version` is stale. `loaded` spares reading the stream again when the caller has
    just read it (e.g. to check access); a retry after a conflict reads it afresh, through
    `folds` when given. Needs no transaction from the caller: an append is one statement, and
    the queue after a conflict opens one if the caller has none.
    """
    append_here = partial(append, conn)
    if expected_version is not None:
        loaded = loaded or await _load(conn, command.goal_id, folds)
        return await attempt(append_here, command, context, loaded, expected_version)
    if conn.is_in_transaction():
        await _take_queue_lock(conn, command.goal_id)
    loaded = loaded or await _load(conn, command.goal_id, folds)
    try:
        return await attempt(append_here, command, context, loaded)
    except WrongExpectedVersion:
        pass
    async with _queued(conn, command.goal_id):
        attempts = 2
        while True:
            loaded = await _load(conn, command.goal_id, folds)
            try:
                return await attempt(append_here, command, context, loaded)
            except WrongExpectedVersion:
                if attempts == _LATEST_ATTEMPTS:
                    raise
                attempts += 1


async def attempt(
    append_to: AppendTo,
    command: GoalCommand,
    context: CommandContext,
    loaded: tuple[GoalState, int],
    expected_version: int | None = None,
) -> Handled:
    """Decides `command` on the goal as `loaded` and appends what it decides, once: raises
    `WrongExpectedVersion` if the goal is no longer at that version (or at `expected_version`)."""
    state, version = loaded
    stream_id = goal_stream(command.goal_id)
    if expected_version is not None and expected_version != version:
        raise WrongExpectedVersion(stream_id, expected_version, version)
    events = decide(command, state)
    appended = await append_to(stream_id, version, new_events(events, command, context))
    return Handled(events, fold(events, state), appended)


async def _load(conn: Connection, goal_id: UUID, folds: GoalFolds | None) -> tuple[GoalState, int]:
    if folds is None:
        return await load_goal(conn, goal_id)
    folded = await folds.load(conn, goal_id)
    return (NoGoal(), 0) if folded is None else (folded.state, folded.version)


@asynccontextmanager
async def _queued(conn: Connection, goal_id: UUID) -> AsyncIterator[None]:
    """Holds the goal's queue lock to the end of a transaction: the caller's, or one opened here."""
    async with atomic(conn):
        await _take_queue_lock(conn, goal_id)
        yield


async def _take_queue_lock(conn: Connection, goal_id: UUID) -> None:
    """Held to the end of the transaction; taking it again in the same one costs nothing more."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 11))", goal_stream(goal_id)
    )
