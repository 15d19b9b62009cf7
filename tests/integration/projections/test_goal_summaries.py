import asyncio
import json
import uuid

import asyncpg

from infra.db.connection import Connection
from infra.eventstore.envelope import Metadata, NewEvent
from infra.eventstore.store import append, stream_version
from infra.goals.streams import goal_stream
from infra.projections.goal_summaries import project_goal
from tests.integration.projections.goals import correct_check_in, goal_with_check_ins


async def _summary(conn: Connection, goal_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT status, version, last_position, stalled_at_version FROM goal_summaries "
        "WHERE goal_id = $1",
        goal_id,
    )


async def test_projecting_applies_each_event_once(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        goal_id = await goal_with_check_ins(conn, 3)

        first = await project_goal(conn, goal_id)
        again = await project_goal(conn, goal_id)

        assert (first.applied, again.applied) == (4, 0)
        summary = await _summary(conn, goal_id)
        assert summary is not None
        assert summary["version"] == 4
        assert (
            await conn.fetchval("SELECT count(*) FROM goal_check_ins WHERE goal_id = $1", goal_id)
            == 3
        )


async def test_concurrent_projections_of_one_goal_apply_it_once(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        goal_id = await goal_with_check_ins(conn, 5)

    async def project() -> int:
        async with pool.acquire() as conn:
            return (await project_goal(conn, goal_id)).applied

    applied = await asyncio.gather(*(project() for _ in range(6)))

    assert sorted(applied) == [0, 0, 0, 0, 0, 6]


async def test_new_events_are_applied_after_the_ones_already_projected(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        goal_id = await goal_with_check_ins(conn, 1)
        await project_goal(conn, goal_id)
        check_in_id = await conn.fetchval(
            "SELECT check_in_id FROM goal_check_ins WHERE goal_id = $1", goal_id
        )
        await correct_check_in(conn, goal_id, check_in_id)

        progressed = await project_goal(conn, goal_id)

        assert progressed.applied == 1
        assert await conn.fetchval(
            "SELECT entered_in_error FROM goal_check_ins WHERE check_in_id = $1", check_in_id
        )


async def test_an_event_that_cannot_be_applied_stalls_only_its_goal(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        broken = await goal_with_check_ins(conn, 1)
        healthy = await goal_with_check_ins(conn, 1)
        stream = goal_stream(broken)
        bad = NewEvent(
            uuid.uuid4(),
            "goal_paused",
            json.dumps({"type": "goal_paused", "goal_id": str(broken)}),  # no reason: invalid
            Metadata(None, "system", None, "test"),
        )
        await append(conn, stream, await stream_version(conn, stream), [bad])

        stalled = await project_goal(conn, broken)
        fine = await project_goal(conn, healthy)

        assert stalled.stalled
        assert not fine.stalled
        assert fine.applied == 2
        summary = await _summary(conn, broken)
        assert summary is not None
        assert (summary["version"], summary["stalled_at_version"]) == (2, 3)
        letter = await conn.fetchrow("SELECT goal_id, error FROM projection_dead_letters")
        assert letter is not None
        assert letter["goal_id"] == broken
        assert "reason" in letter["error"]
        assert (await project_goal(conn, broken)).applied == 0
