"""What a rebuild leaves in the live tables: nothing until its switch, everything written up to
the switch after it, and nothing at all when it is interrupted or some goal cannot be folded."""

import asyncio
import json
import signal
import uuid
from uuid import UUID

import asyncpg
import pytest

from infra.db.connection import Connection
from infra.eventstore.envelope import Metadata, NewEvent
from infra.eventstore.store import append, stream_version
from infra.goals.streams import goal_stream
from infra.projections.goal_summaries import project_goal
from infra.projections.rebuild import rebuild_goal_summaries
from tests.integration.projections.goals import check_in, goal_with_check_ins
from tests.integration.projections.rebuilds import (
    finished,
    goal_ids_in,
    live_tables_held,
    next_tables,
    projection_rows,
    rebuilding_connection,
    start_rebuild_command,
    wait_until_switch_waits,
)


def _ignore(done: int, total: int) -> None:
    pass


async def _projected_goal(pool: asyncpg.Pool, check_ins: int) -> UUID:
    async with pool.acquire() as conn:
        goal_id = await goal_with_check_ins(conn, check_ins)
        await project_goal(conn, goal_id)
    return goal_id


async def _undecodable_goal(pool: asyncpg.Pool) -> UUID:
    """A goal whose third event no version of the code can read: a pause without its reason."""
    async with pool.acquire() as conn:
        goal_id = await goal_with_check_ins(conn, 1)
        stream = goal_stream(goal_id)
        bad = NewEvent(
            uuid.uuid4(),
            "goal_paused",
            json.dumps({"type": "goal_paused", "goal_id": str(goal_id)}),
            Metadata(None, "system", None, "test"),
        )
        await append(conn, stream, await stream_version(conn, stream), [bad])
    return goal_id


async def test_what_is_written_while_the_rebuild_runs_is_in_the_tables_it_switches_in(
    pool: asyncpg.Pool, admin_database_url: str
) -> None:
    goal_id = await _projected_goal(pool, 2)
    async with rebuilding_connection(admin_database_url) as rebuilder, pool.acquire() as writer:
        async with live_tables_held(pool):
            rebuild = asyncio.create_task(rebuild_goal_summaries(rebuilder, _ignore))
            await wait_until_switch_waits(writer)
            # Long after the rebuild's snapshot, and with no worker to apply it.
            await check_in(writer, goal_id)
        rebuilt = await rebuild
        version = await writer.fetchval(
            "SELECT version FROM goal_summaries WHERE goal_id = $1", goal_id
        )

    assert version == 4
    assert rebuilt.stalled == []


async def test_a_goal_that_cannot_be_folded_fails_the_command_by_name_after_the_switch(
    pool: asyncpg.Pool, admin_database_url: str
) -> None:
    healthy = await _projected_goal(pool, 1)
    broken = await _undecodable_goal(pool)
    async with pool.acquire() as conn:
        before = await projection_rows(conn)

    async with live_tables_held(pool) as live, pool.acquire() as watcher:
        command = start_rebuild_command(admin_database_url)
        await wait_until_switch_waits(watcher)
        # Folded and ready, dead letter included, but not one row of it in the live tables.
        during = await projection_rows(live)
    code, output = await finished(command)
    async with pool.acquire() as conn:
        after = await projection_rows(conn)

    assert during == before
    assert code == 1, output
    assert broken in goal_ids_in(output)
    assert healthy not in goal_ids_in(output)
    summaries, _, dead_letters = after
    assert [(row[0], row[4], row[10]) for row in summaries if row[0] == broken] == [(broken, 2, 3)]
    assert [row[1] for row in dead_letters] == [broken]


async def test_an_interrupted_rebuild_command_leaves_nothing_behind(
    pool: asyncpg.Pool, admin_database_url: str
) -> None:
    await _projected_goal(pool, 2)
    await _undecodable_goal(pool)
    async with pool.acquire() as conn:
        before = await projection_rows(conn)

    async with live_tables_held(pool), pool.acquire() as watcher:
        command = start_rebuild_command(admin_database_url)
        await wait_until_switch_waits(watcher)
        command.send_signal(signal.SIGINT)  # Ctrl-C
        code, output = await finished(command)
    async with pool.acquire() as conn:
        after = await projection_rows(conn)
        left = await next_tables(conn)

    assert code != 0, output
    assert left == []
    assert after == before


async def test_a_rebuild_cancelled_before_its_switch_leaves_nothing_behind(
    pool: asyncpg.Pool, admin_database_url: str
) -> None:
    await _projected_goal(pool, 2)
    await _undecodable_goal(pool)
    async with pool.acquire() as conn:
        before = await projection_rows(conn)

    async with rebuilding_connection(admin_database_url) as rebuilder, pool.acquire() as watcher:
        async with live_tables_held(pool):
            rebuild = asyncio.create_task(rebuild_goal_summaries(rebuilder, _ignore))
            await wait_until_switch_waits(watcher)
            rebuild.cancel()
            with pytest.raises(asyncio.CancelledError):
                await rebuild
        after = await projection_rows(watcher)
        left = await next_tables(watcher)

    assert left == []
    assert after == before


async def test_a_rebuild_drops_the_fresh_tables_a_killed_one_left(
    pool: asyncpg.Pool, rebuild_conn: Connection
) -> None:
    await _projected_goal(pool, 1)
    await rebuild_conn.execute("CREATE TABLE projection_dead_letters_next (leftover integer)")
    await rebuild_conn.execute("CREATE TABLE goal_summaries_next (leftover integer)")

    rebuilt = await rebuild_goal_summaries(rebuild_conn, _ignore)

    assert (rebuilt.goals, rebuilt.stalled) == (1, [])
    assert await next_tables(rebuild_conn) == []
