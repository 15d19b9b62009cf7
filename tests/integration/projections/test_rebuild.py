"""A rebuild from the whole log gives exactly the rows that incremental projection gave, on
histories whose transactions take their ids in another order than they commit."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from asyncpg.transaction import Transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.goals.commands import (
    AdjustGoal,
    CancelGoal,
    GoalCommand,
    MarkAchieved,
    PauseGoal,
    RateGoal,
    RecordCorrection,
    RecordMiss,
    RecordProgress,
    ResumeGoal,
    SetGoal,
)
from domain.goals.errors import GoalRuleViolation
from domain.goals.events import TermsChange
from infra.db.connection import Connection
from infra.db.roles import PROJECTIONS
from infra.projections.feed import lagging_goals
from infra.projections.goal_summaries import project_goal
from infra.projections.rebuild import rebuild_goal_summaries, rebuild_if_outdated
from tests.integration.projections.goals import (
    CLINIC_OPENED,
    NOW,
    THERAPIST,
    goal_with_check_ins,
    run,
    take_transaction_id,
    terms,
)
from tests.integration.projections.rebuilds import fresh_database, projection_rows
from tests.servers import service_url

GOALS = 3


def _command(kind: str, goal_id: uuid.UUID, check_in: uuid.UUID, offset: int) -> GoalCommand:
    occurred = NOW - timedelta(hours=offset)
    commands: dict[str, GoalCommand] = {
        "check_in": RecordProgress(goal_id, check_in, 1 + offset % 3, occurred, THERAPIST, NOW),
        "adjust": AdjustGoal(
            goal_id, TermsChange(statement=f"Walk {offset} times"), "life changed", THERAPIST, NOW
        ),
        "pause": PauseGoal(goal_id, "travel", THERAPIST, NOW),
        "resume": ResumeGoal(goal_id, THERAPIST, NOW),
        "achieve": MarkAchieved(goal_id, THERAPIST, NOW),
        "miss": RecordMiss(goal_id, "obstacles", "a hard month", THERAPIST, NOW),
        "cancel": CancelGoal(goal_id, "no longer relevant", THERAPIST, NOW),
        "rate": RateGoal(goal_id, offset % 5 - 2, THERAPIST, NOW),
        "correct_goal": RecordCorrection(goal_id, "goal", "wrong client", THERAPIST, NOW),
    }
    return commands[kind]


SLOTS = 2
"""Connections that may hold a transaction open across steps."""

command_kind = st.sampled_from(
    ["check_in"] * 4
    + ["adjust", "pause", "resume", "achieve", "miss", "cancel", "rate", "correct_goal"]
    + ["correct_check_in"]
)
# What the broker does after a committed write: nothing (lost), deliver once, twice, or at once
# to several workers.
delivery = st.sampled_from(["lost", "once", "twice", "concurrent"])


@dataclass(frozen=True)
class Begin:
    """A transaction opens on a slot and takes its id at once, as one that claims an
    idempotency key (or writes another goal) first does: its appends, made later, sort before
    those of transactions that commit in between."""

    slot: int


@dataclass(frozen=True)
class Write:
    slot: int | None
    """In the slot's transaction if one is open there, else on its own."""
    goal: int
    kind: str
    offset: int
    delivered: str


@dataclass(frozen=True)
class Overtaken:
    """The inversion made sure of: a transaction takes its id on a slot, a write on its own
    commits to the goal, and then the transaction writes to the goal too (and stays open)."""

    slot: int
    goal: int
    first: str
    then: str
    delivered: str


@dataclass(frozen=True)
class End:
    slot: int
    commit: bool


step = st.one_of(
    st.builds(Begin, st.integers(0, SLOTS - 1)),
    st.builds(
        Write,
        st.one_of(st.none(), st.integers(0, SLOTS - 1)),
        st.integers(0, GOALS - 1),
        command_kind,
        st.integers(0, 40),
        delivery,
    ),
    st.builds(
        Overtaken,
        st.integers(0, SLOTS - 1),
        st.integers(0, GOALS - 1),
        command_kind,
        command_kind,
        delivery,
    ),
    st.builds(End, st.integers(0, SLOTS - 1), st.booleans()),
)


async def _deliver(pool: asyncpg.Pool, goal_id: uuid.UUID, how: str) -> None:
    copies = {"lost": 0, "once": 1, "twice": 2, "concurrent": 3}[how]

    async def project() -> None:
        async with pool.acquire() as conn:
            await project_goal(conn, goal_id)

    if how == "concurrent":
        await asyncio.gather(*(project() for _ in range(copies)))
    else:
        for _ in range(copies):
            await project()


class _Slot:
    """A connection that may have a transaction open, and the goals that transaction holds
    (a writer on one of them would wait for it to end)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.transaction: Transaction | None = None
        self.holds: dict[uuid.UUID, str] = {}


class _History:
    def __init__(self, pool: asyncpg.Pool, slots: list[_Slot], goal_ids: list[uuid.UUID]) -> None:
        self.pool = pool
        self.slots = slots
        self.goal_ids = goal_ids
        self.check_ins: dict[uuid.UUID, list[uuid.UUID]] = {goal_id: [] for goal_id in goal_ids}

    async def begin(self, slot: _Slot) -> None:
        if slot.transaction is None:
            slot.transaction = slot.conn.transaction()
            await slot.transaction.start()
            await take_transaction_id(slot.conn)

    async def end(self, slot: _Slot, commit: bool) -> None:
        if slot.transaction is None:
            return
        await (slot.transaction.commit() if commit else slot.transaction.rollback())
        slot.transaction = None
        if commit:
            for goal_id, delivered in slot.holds.items():
                await _deliver(self.pool, goal_id, delivered)
        slot.holds = {}

    async def write(self, write: Write) -> None:
        slot = None if write.slot is None else self.slots[write.slot]
        goal_id, delivered = self.goal_ids[write.goal], write.delivered
        if any(goal_id in other.holds for other in self.slots if other is not slot):
            return  # it would wait for a transaction that only a later step ends
        command = self._command(write.kind, goal_id, write.offset)
        if command is None:
            return
        in_transaction = slot is not None and slot.transaction is not None
        if slot is not None and in_transaction:
            slot.holds.setdefault(goal_id, delivered)
            conn = slot.conn
            try:
                await run(conn, command)
            except GoalRuleViolation:
                return
        else:
            async with self.pool.acquire() as conn:
                try:
                    await run(conn, command)
                except GoalRuleViolation:
                    return
            await _deliver(self.pool, goal_id, delivered)
        if isinstance(command, RecordProgress):
            self.check_ins[goal_id].append(command.check_in_id)

    def _command(self, kind: str, goal_id: uuid.UUID, offset: int) -> GoalCommand | None:
        if kind != "correct_check_in":
            return _command(kind, goal_id, uuid.uuid4(), offset)
        recorded = self.check_ins[goal_id]
        if not recorded:
            return None
        target = recorded[offset % len(recorded)]
        return RecordCorrection(goal_id, "check_in", "typo", THERAPIST, NOW, target)


async def _example(
    postgres_url: str, template: str, steps: list[Begin | Write | Overtaken | End]
) -> None:
    """One history on a database of its own: nothing of another example's log is in it."""
    async with (
        fresh_database(postgres_url, template) as database_url,
        asyncpg.create_pool(service_url(database_url), min_size=1, max_size=6) as pool,
    ):
        goal_ids = [uuid.uuid4() for _ in range(GOALS)]
        async with pool.acquire() as conn:
            for goal_id in goal_ids:
                await run(
                    conn, SetGoal(goal_id, uuid.uuid4(), terms(), THERAPIST, NOW, CLINIC_OPENED)
                )
        async with pool.acquire() as first, pool.acquire() as second:
            slots = [_Slot(first), _Slot(second)]
            history = _History(pool, slots, goal_ids)
            for taken in steps:
                match taken:
                    case Begin(index):
                        await history.begin(slots[index])
                    case End(index, commit):
                        await history.end(slots[index], commit)
                    case Write():
                        await history.write(taken)
                    case Overtaken(index, goal, before, after, delivered):
                        await history.begin(slots[index])
                        await history.write(Write(None, goal, before, 0, delivered))
                        await history.write(Write(index, goal, after, 1, delivered))
            for open_slot in slots:
                await history.end(open_slot, commit=True)
        async with pool.acquire() as conn:
            # The reconciler's part: whatever the broker lost is found and projected.
            for goal_id in await lagging_goals(conn, timedelta(0)):
                await project_goal(conn, goal_id)
            incremental = await projection_rows(conn)
        rebuilding = await asyncpg.connect(database_url, server_settings={"role": PROJECTIONS})
        try:
            rebuilt = await rebuild_goal_summaries(rebuilding, lambda done, total: None)
        finally:
            await rebuilding.close()
        async with pool.acquire() as conn:
            assert await projection_rows(conn) == incremental
        assert rebuilt.stalled == []


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=20))
def test_incremental_projection_equals_a_full_rebuild(
    postgres_url: str, migrated_template: str, steps: list[Begin | Write | Overtaken | End]
) -> None:
    asyncio.run(_example(postgres_url, migrated_template, steps))


async def test_a_rebuild_runs_only_when_the_projection_code_moved_on(
    conn: Connection, rebuild_conn: Connection, admin_conn: Connection
) -> None:
    await goal_with_check_ins(conn, 2)
    # `goals migrate` built the projection with this code.
    at_first = await rebuild_if_outdated(rebuild_conn, lambda done, total: None)
    await admin_conn.execute("UPDATE projection_versions SET version = version - 1")
    after_a_bump = await rebuild_if_outdated(rebuild_conn, lambda done, total: None)
    again = await rebuild_if_outdated(rebuild_conn, lambda done, total: None)

    assert (at_first, after_a_bump, again) == (False, True, False)
    assert await conn.fetchval("SELECT count(*) FROM goal_summaries") == 1
