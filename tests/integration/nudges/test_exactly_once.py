"""Each nudge is sent once, whatever runs twice: two scans at once, a message delivered again or
late, a pass that dies before it commits."""

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from domain.goals.commands import MarkAchieved
from infra.db.connection import Connection
from infra.nudges.consumer import CONSUMER
from infra.nudges.scanner import SCAN_LOCK, scan
from tests.integration.nudges.world import People, people, run, set_goal, terms

GOALS = 4


class WorkerKilled(Exception):
    pass


async def _behind_goals(conn: Connection) -> tuple[People, datetime]:
    """Daily goals with no check-in, each due a reminder at 10:00 in the client's zone."""
    world = await people(conn, client_zone="Asia/Tokyo")
    now = datetime.now(UTC)
    today = now.date()
    for index in range(GOALS):
        goal = terms(
            f"Goal number {index}",
            start=today - timedelta(days=1),
            due=today + timedelta(days=20),
            zone="Asia/Tokyo",
            cue="at 10:00",
        )
        await set_goal(conn, world, goal, now)
    await conn.execute(
        "INSERT INTO notification_preferences (user_id, daily_cap) VALUES ($1, 20)",
        world.client.id,
    )
    tomorrow = today + timedelta(days=1)
    return world, datetime(tomorrow.year, tomorrow.month, tomorrow.day, 1, 30, tzinfo=UTC)


async def _sent(conn: Connection) -> tuple[int, int]:
    rows = await conn.fetchval("SELECT count(*) FROM nudges WHERE status = 'sent'")
    events = await conn.fetchval("SELECT count(*) FROM events WHERE event_type = 'nudge_sent'")
    return rows, events


async def test_two_scans_at_once_send_each_nudge_once(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        _, moment = await _behind_goals(conn)

    async def one_scan() -> object:
        async with pool.acquire() as conn:
            return await scan(conn, moment, due_soon_days=3, email=None)

    for _ in range(3):
        await asyncio.gather(one_scan(), one_scan())

    async with pool.acquire() as conn:
        assert await _sent(conn) == (GOALS, GOALS)


async def test_a_scan_does_nothing_while_another_holds_the_lock(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, pool.acquire() as other:
        _, moment = await _behind_goals(conn)
        await other.execute("SELECT pg_advisory_lock($1)", SCAN_LOCK)
        assert await scan(conn, moment, due_soon_days=3, email=None) is None
        assert await conn.fetchval("SELECT count(*) FROM nudges") == 0
        await other.execute("SELECT pg_advisory_unlock($1)", SCAN_LOCK)
        scanned = await scan(conn, moment, due_soon_days=3, email=None)
    assert scanned is not None
    assert (scanned.stored, scanned.delivered.sent) == (GOALS, GOALS)


async def test_a_pass_that_dies_before_it_commits_is_made_again_once(conn: Connection) -> None:
    _, moment = await _behind_goals(conn)

    async def dies_before_commit() -> None:
        async with conn.transaction():
            assert await scan(conn, moment, due_soon_days=3, email=None) is not None
            assert await _sent(conn) == (GOALS, GOALS)
            raise WorkerKilled

    with pytest.raises(WorkerKilled):
        await dies_before_commit()
    assert await _sent(conn) == (0, 0)

    await scan(conn, moment, due_soon_days=3, email=None)
    await scan(conn, moment + timedelta(minutes=1), due_soon_days=3, email=None)

    assert await _sent(conn) == (GOALS, GOALS)


async def test_messages_applied_again_or_late_store_nothing_twice(conn: Connection) -> None:
    world = await people(conn)
    now = datetime.now(UTC)
    goal = terms(
        "Join a choir",
        start=now.date(),
        due=now.date() + timedelta(days=9),
        zone="UTC",
        cadence="by_due_date",
        kind="done",
    )
    goal_id = await set_goal(conn, world, goal, now)
    await run(conn, world, MarkAchieved(goal_id, world.by_therapist, now))
    moment = now + timedelta(hours=1)
    # Whatever the hour, someone is out of quiet hours within a day.
    for hour in range(25):
        await scan(conn, moment + timedelta(hours=hour), due_soon_days=3, email=None)
        # The same message, again and late: nothing new to apply.
        assert (await CONSUMER.apply(conn, goal_id)).applied == 0

    kinds = await conn.fetch(
        "SELECT recipient_id, status FROM nudges WHERE kind = 'celebration' ORDER BY recipient_id"
    )
    assert sorted((row["recipient_id"], row["status"]) for row in kinds) == sorted(
        [(world.client.id, "sent"), (world.therapist.id, "sent")]
    )
    assert await _sent(conn) == (2, 2)
