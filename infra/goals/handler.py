"""The one path every goal command takes: load the stream, decide, append."""

import uuid
from uuid import UUID

import msgspec

from domain.goals.commands import GoalCommand
from domain.goals.decider import decide
from domain.goals.events import GoalEvent
from domain.goals.state import GoalState, fold
from infra.db.connection import Connection
from infra.eventstore import codec
from infra.eventstore.envelope import AppendResult, Metadata, NewEvent
from infra.eventstore.store import WrongExpectedVersion, append, read_stream
from infra.goals.streams import goal_stream

# Without an expected version the write applies to the latest one; if another writer gets in
# between our read and our append, deciding again on the newer state is still correct. After a
# first conflict the writer queues behind the goal's other contended writers (an advisory lock
# held to the end of its transaction), so under contention it waits its turn instead of losing
# race after race; the uncontended path pays nothing for it.
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


class Handled(msgspec.Struct, frozen=True):
    events: list[GoalEvent]
    state: GoalState
    appended: AppendResult


async def load_goal(conn: Connection, goal_id: UUID) -> tuple[GoalState, int]:
    recorded = await read_stream(conn, goal_stream(goal_id))
    state = fold([codec.decode_event(item) for item in recorded])
    return state, (recorded[-1].stream_version if recorded else 0)


def _new_events(
    events: list[GoalEvent], command: GoalCommand, context: CommandContext
) -> list[NewEvent]:
    metadata = Metadata(
        actor_id=command.actor.user_id,
        actor_role=command.actor.role,
        clinic_id=context.clinic_id,
        correlation_id=context.correlation_id,
        causation_id=context.causation_id,
        reason=context.reason,
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


async def handle(
    conn: Connection,
    command: GoalCommand,
    context: CommandContext,
    expected_version: int | None = None,
    loaded: tuple[GoalState, int] | None = None,
) -> Handled:
    """Decides `command` on the goal's current state and appends what it decides.

    Raises `GoalRuleViolation` when a rule forbids the command and `WrongExpectedVersion` when
    `expected_version` is stale. `loaded` spares reading the stream again when the caller has
    just read it (e.g. to check access); a retry after a conflict always reads it afresh.
    """
    attempt = 1
    while True:
        state, version = loaded or await load_goal(conn, command.goal_id)
        loaded = None
        if expected_version is not None and expected_version != version:
            raise WrongExpectedVersion(goal_stream(command.goal_id), expected_version, version)
        events = decide(command, state)
        try:
            appended = await append(
                conn, goal_stream(command.goal_id), version, _new_events(events, command, context)
            )
        except WrongExpectedVersion:
            if expected_version is not None or attempt == _LATEST_ATTEMPTS:
                raise
            if attempt == 1:
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 11))",
                    goal_stream(command.goal_id),
                )
            attempt += 1
        else:
            return Handled(events, fold(events, state), appended)
