"""A rebuild from the whole log gives exactly the rows that incremental projection gave."""

import asyncio
import uuid
from datetime import timedelta

import asyncpg
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
    NOW,
    THERAPIST,
    goal_with_check_ins,
    run,
    terms,
)

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


step = st.tuples(
    st.sampled_from(
        ["check_in"] * 4
        + ["adjust", "pause", "resume", "achieve", "miss", "cancel", "rate", "correct_goal"]
        + ["correct_check_in"]
    ),
    st.integers(0, GOALS - 1),
    st.integers(0, 40),
    # What the broker does after this write: nothing (lost), deliver once, twice, or at once
    # to several workers.
    st.sampled_from(["lost", "once", "twice", "concurrent"]),
)


async def _snapshot(conn: Connection) -> tuple[list[tuple[object, ...]], ...]:
    summaries = await conn.fetch(
        "SELECT goal_id, status, statement, terms::text, version, last_position, ended_at, "
        "last_check_in_at, attainment_rating, stalled_at_version FROM goal_summaries "
        "ORDER BY goal_id"
    )
    check_ins = await conn.fetch(
        "SELECT check_in_id, goal_id, amount, occurred_at, entered_in_error FROM goal_check_ins "
        "ORDER BY check_in_id"
    )
    return [tuple(row) for row in summaries], [tuple(row) for row in check_ins]


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


async def _example(
    database_url: str, admin_database_url: str, steps: list[tuple[str, int, int, str]]
) -> None:
    async with asyncpg.create_pool(database_url, min_size=1, max_size=4) as pool:
        goal_ids = [uuid.uuid4() for _ in range(GOALS)]
        recorded: dict[uuid.UUID, list[uuid.UUID]] = {goal_id: [] for goal_id in goal_ids}
        async with pool.acquire() as conn:
            for goal_id in goal_ids:
                await run(conn, SetGoal(goal_id, uuid.uuid4(), terms(), THERAPIST, NOW))
        for kind, goal_index, offset, delivery in steps:
            goal_id = goal_ids[goal_index]
            check_in = uuid.uuid4()
            if kind == "correct_check_in":
                if not recorded[goal_id]:
                    continue
                target = recorded[goal_id][offset % len(recorded[goal_id])]
                command: GoalCommand = RecordCorrection(
                    goal_id, "check_in", "typo", THERAPIST, NOW, target
                )
            else:
                command = _command(kind, goal_id, check_in, offset)
            async with pool.acquire() as conn:
                try:
                    await run(conn, command)
                except GoalRuleViolation:
                    continue
            if kind == "check_in":
                recorded[goal_id].append(check_in)
            await _deliver(pool, goal_id, delivery)
        async with pool.acquire() as conn:
            # The reconciler's part: whatever the broker lost is found and projected.
            for goal_id in await lagging_goals(conn, timedelta(0)):
                await project_goal(conn, goal_id)
            incremental = await _snapshot(conn)
        rebuilding = await asyncpg.connect(
            admin_database_url, server_settings={"role": PROJECTIONS}
        )
        try:
            await rebuild_goal_summaries(rebuilding, lambda done, total: None)
        finally:
            await rebuilding.close()
        async with pool.acquire() as conn:
            rebuilt = await _snapshot(conn)
    assert rebuilt == incremental


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_incremental_projection_equals_a_full_rebuild(
    database_url: str, admin_database_url: str, steps: list[tuple[str, int, int, str]]
) -> None:
    asyncio.run(_example(database_url, admin_database_url, steps))


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
