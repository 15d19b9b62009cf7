"""The one way a goal command reaches the log: a route, the command line or the demo hands the
writer a command, and the writer chooses how it goes in.

- A check-in on a goal this process has folded, by a caller it has seen, with no version named
  and no transaction to join, goes in with its read in one round trip
  (infra/goals/check_ins_at_once.py), batched with the others in flight.
- Any other write without a transaction of its own shares an append batch with the requests in
  flight (infra/db/batches.py), still held to its own expected version.
- A write inside a transaction (an idempotency key, a supporter added), and any write that lost
  a race without naming a version, goes through the handler on one connection, which reads the
  goal again and queues behind its other writers (infra/goals/handler.py).

The writer owns what the process keeps between requests: the goals it has folded, the caller
each token proved last, and the snapshots of long goals it writes for the next process that
folds them (infra/goals/snapshots.py). One is made per process, when the API starts.

No fold holds a goal's check-in ids (domain/goals/state.py): the log's index on them refuses a
check-in id a second time and a check-in's second correction, and the writer answers those
refusals with the rule they stand for, before any other rule for a check-in whose id is taken.
"""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar
from uuid import UUID

import msgspec

from domain.access.policy import Caller, GoalAccess, GoalAction, may
from domain.goals.commands import Actor, GoalCommand, RecordProgress
from domain.goals.decider import check_in_exists, decide
from domain.goals.errors import GoalRuleViolation
from domain.goals.state import Goal, GoalState, NoGoal, fold
from domain.goals.view import with_totals
from infra.db.connection import Connection
from infra.eventstore.store import DuplicateFact, WrongExpectedVersion
from infra.goals.callers import RecentCallers
from infra.goals.check_ins import (
    corrected_check_in,
    on_record,
    rule_held_once,
    totals_at,
    with_on_record,
)
from infra.goals.check_ins_at_once import CheckInAttempt
from infra.goals.folds import FoldedGoal, GoalFolds
from infra.goals.handler import CommandContext, Handled, attempt, handle, new_events
from infra.goals.loaded import LoadedGoal, after_write
from infra.goals.request_read import GoalClient, RequestKey
from infra.goals.snapshots import SnapshotKeeper
from infra.goals.store import GoalStore

T = TypeVar("T")

CommandMaker = Callable[[Actor, datetime], GoalCommand]
"""Builds the command once the actor and the moment are known."""


class Requested(msgspec.Struct, frozen=True):
    """What the request knows of a write beyond its command."""

    token_hash: bytes
    correlation_id: str
    reason: str | None = None


class Subject(msgspec.Struct, frozen=True):
    """Who writes, what they may do to the goal, and the goal as loaded (None: a new goal)."""

    caller: Caller
    access: GoalAccess
    goal: LoadedGoal | None


Load = Callable[[], Awaitable[Subject]]
"""Loads the caller and the goal, refusing what the caller may not do."""


class Written(msgspec.Struct, frozen=True):
    caller: Caller
    after: LoadedGoal
    handled: Handled
    created: bool


class GoalRead(msgspec.Struct, frozen=True):
    caller: Caller | None
    """None: the token is unknown, expired or revoked."""
    client: GoalClient | None
    """None: no such goal, or its client is not of the caller's clinic."""
    folded: FoldedGoal | None


def actor_of(caller: Caller) -> Actor:
    return Actor(caller.user_id, caller.role)


class GoalWriter:
    def __init__(
        self,
        store: GoalStore,
        folds: GoalFolds | None = None,
        callers: RecentCallers | None = None,
    ) -> None:
        self.store = store
        self.folds = folds or GoalFolds()
        """Per process: see infra/goals/folds.py for why a cached fold is never stale."""
        self.callers = callers or RecentCallers()
        self.snapshots = SnapshotKeeper(store.pool)

    async def read(self, token_hash: bytes, goal_id: UUID) -> GoalRead:
        """The token's holder and the goal, folded on from what this process holds (or from the
        goal's snapshot, a round trip more, when it holds nothing), in one shared round trip."""
        base = self.folds.cached(goal_id)
        if base is None:
            snapshot = await self.store.snapshot(goal_id)
            base = None if snapshot is None else FoldedGoal.of(snapshot)
        read = await self.store.read(RequestKey(token_hash, goal_id, base.version if base else 0))
        if read.caller is not None:
            self.callers.remember(token_hash, read.caller)
        if read.client is None:
            return GoalRead(read.caller, read.client, None)
        folded = self.folds.advanced(goal_id, base, read.newer)
        if folded is not None and not folded.detail.totals_known:
            totals = await self.store.check_in_totals(goal_id, folded.version)
            folded = self.folds.keep(goal_id, self.folds.counted(folded, totals))
        if folded is not None:
            self._snapshot_if_due(goal_id, folded)
        return GoalRead(read.caller, read.client, folded)

    def _snapshot_if_due(self, goal_id: UUID, folded: FoldedGoal) -> None:
        snapshot = folded.snapshot()
        if snapshot is not None:
            self.snapshots.keep_later(goal_id, snapshot)
            self.folds.keep(
                goal_id, msgspec.structs.replace(folded, snapshot_version=folded.version)
            )

    async def write(
        self,
        goal_id: UUID,
        make: CommandMaker,
        requested: Requested,
        expected_version: int | None = None,
        *,
        load: Load,
        conn: Connection | None = None,
    ) -> Written:
        """Writes the command `make` builds for the caller, on the goal as it is now (or at
        `expected_version`). On `conn`, when the write belongs to the caller's transaction.

        `load` gives the caller and the goal, refusing what the caller may not do; it is not
        called when the check-in went in with its read. Raises `GoalRuleViolation` when a rule
        forbids the command and `WrongExpectedVersion` when `expected_version` is stale.
        """
        if expected_version is None and conn is None:
            written = await self._check_in_at_once(goal_id, make, requested)
            if written is not None:
                return written
        subject = await load()
        goal = subject.goal
        command = make(actor_of(subject.caller), datetime.now(UTC))
        if corrected_check_in(command) is not None:
            command = await self._on_connection(conn, partial(with_on_record, command=command))
        context = _context(subject.caller, requested)
        if goal is None:
            loaded: tuple[GoalState, int] = (NoGoal(), 0)
            expected_version = 0
        else:
            loaded = (goal.state, goal.version)
        try:
            if conn is not None:
                handled = await handle(
                    conn, command, context, expected_version, loaded, folds=self.folds
                )
            else:
                handled = await self._shared(command, context, loaded, expected_version)
        except GoalRuleViolation as refused:
            raise await self._check_in_taken(conn, command) or refused from None
        except DuplicateFact as duplicate:
            raise rule_held_once(command, duplicate) from duplicate
        after = after_write(goal, subject.access, handled)
        if not after.detail.totals_known:
            version = handled.appended.version
            totals = await self._on_connection(
                conn, partial(totals_at, goal_id=goal_id, version=version)
            )
            after = msgspec.structs.replace(after, detail=with_totals(after.detail, totals))
        return Written(subject.caller, after, handled, created=goal is None)

    async def _on_connection(self, conn: Connection | None, run: Callable[..., Awaitable[T]]) -> T:
        """`run(conn)`, on the write's own connection (its transaction sees what it wrote), or
        on one of the pool's."""
        if conn is not None:
            return await run(conn)
        async with self.store.reading() as own:
            return await run(own)

    async def _check_in_taken(
        self, conn: Connection | None, command: GoalCommand
    ) -> GoalRuleViolation | None:
        """`check_in_exists` for a refused check-in whose id the goal holds: that refusal comes
        before any other rule's (domain/goals/decider.py)."""
        if not isinstance(command, RecordProgress):
            return None
        found = await self._on_connection(
            conn, partial(on_record, goal_id=command.goal_id, check_in_id=command.check_in_id)
        )
        return check_in_exists() if found.recorded else None

    async def _shared(
        self,
        command: GoalCommand,
        context: CommandContext,
        loaded: tuple[GoalState, int],
        expected: int | None,
    ) -> Handled:
        try:
            return await attempt(self.store.append, command, context, loaded, expected)
        except WrongExpectedVersion:
            if expected is not None:
                raise
        # Someone wrote first: the handler reads the goal again and, if need be, queues.
        async with self.store.connection() as conn:
            return await handle(conn, command, context, folds=self.folds)

    async def _check_in_at_once(
        self, goal_id: UUID, make: CommandMaker, requested: Requested
    ) -> Written | None:
        """The check-in as written with its read; None when it must take another way (nothing
        was written then)."""
        guessed = self.callers.guess(requested.token_hash)
        base = self.folds.cached(goal_id)
        if guessed is None or base is None:
            return None
        assumed = _assumed_access(guessed, base.state)
        if not may(guessed, GoalAction.WRITE, assumed):
            return None
        command = make(actor_of(guessed), datetime.now(UTC))
        if not isinstance(command, RecordProgress):
            return None
        try:
            events = decide(command, base.state)
        except GoalRuleViolation:
            return None  # perhaps only on this fold: the other ways decide on the newest
        (event,) = new_events(events, command, _context(guessed, requested))
        outcome = await self.store.check_in_at_once(
            CheckInAttempt(
                RequestKey(requested.token_hash, goal_id, base.version),
                assumed_holder=guessed.user_id,
                via_care_team=bool(assumed.therapists),
                check_in_id=command.check_in_id,
                event=event,
            )
        )
        read = outcome.read
        if outcome.appended is None:
            return None
        if read.client is None or read.caller is None:
            raise RuntimeError(f"a check-in went in on goal {goal_id}, which its read did not find")
        folded = self.folds.advanced(goal_id, base, read.newer)
        if folded is None:
            raise RuntimeError(f"goal {goal_id} took a check-in but folds to no goal")
        access = GoalAccess(
            read.client.clinic_id,
            read.client.client_id,
            folded.state.supporters,
            read.client.therapists,
        )
        before = LoadedGoal(folded.state, folded.detail, access, folded.version)
        handled = Handled(events, fold(events, folded.state), outcome.appended)
        after = after_write(before, access, handled)
        if after.version == folded.version + 1 and isinstance(after.state, Goal):
            # Committed by the statement (no transaction is open on it), and right after the
            # events read with it: the next check-in here need not read it back.
            kept = FoldedGoal(after.version, after.state, after.detail, folded.snapshot_version)
            self._snapshot_if_due(goal_id, self.folds.keep(goal_id, kept))
        return Written(read.caller, after, handled, created=False)


def _assumed_access(caller: Caller, goal: Goal) -> GoalAccess:
    """The facts that would let the caller write to the goal; the statement confirms them."""
    as_therapist = frozenset({caller.user_id}) if caller.role == "therapist" else frozenset()
    return GoalAccess(caller.clinic_id, goal.client_id, goal.supporters, as_therapist)


def _context(caller: Caller, requested: Requested) -> CommandContext:
    return CommandContext(
        command_id=uuid.uuid4(),
        clinic_id=caller.clinic_id,
        correlation_id=requested.correlation_id,
        reason=requested.reason,
        token_id=caller.token_id,
    )


async def write_command(conn: Connection, command: GoalCommand, context: CommandContext) -> Handled:
    """A command outside any request (the demo, scripts): decided on the goal as it is now and
    appended on `conn`, queued behind the goal's other writers if it loses a race."""
    command = await with_on_record(conn, command)
    try:
        return await handle(conn, command, context)
    except DuplicateFact as duplicate:
        raise rule_held_once(command, duplicate) from duplicate
