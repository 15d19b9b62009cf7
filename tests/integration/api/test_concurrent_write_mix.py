"""Writes on one goal in every way the API makes them, at once: with and without an
Idempotency-Key, check-ins in one round trip, and appends shared in batches. Each goes in once,
and none waits for another in a circle."""

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.config import Settings
from services.api.app import create_app
from tests.integration.api.live_server import serving
from tests.integration.api.support import set_goal
from tests.integration.api.world import TOKEN_KEY, Clinic

WAVES = 12
PER_WAVE = 12


async def _deadlocks(conn: asyncpg.Connection) -> int:
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    return int(
        await conn.fetchval(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        )
    )


async def _sessions(conn: asyncpg.Connection) -> set[int]:
    rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    return {row["pid"] for row in rows}


async def _ended(conn: asyncpg.Connection, sessions_before: set[int]) -> None:
    """Until the server's sessions have ended: a session reports its deadlocks to the
    statistics when it ends, at the latest."""
    deadline = time.monotonic() + 10
    while await _sessions(conn) - sessions_before:
        if time.monotonic() > deadline:
            raise AssertionError("the server's sessions did not end")
        await asyncio.sleep(0.05)


def _request(goal_id: str, clinic: Clinic, n: int) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The n-th write of a wave: a check-in or an adjustment, keyed on every other one."""
    keyed = {"Idempotency-Key": f"mix-{uuid.uuid4()}"} if n % 2 else {}
    if n % 4 == 3:
        changes = {"statement": f"Walk {uuid.uuid4().hex[:8]} times"}
        body = {"changes": changes, "reason": "life changed"}
        return "adjustments", body, {**clinic.therapist.headers, **keyed}
    check_in = {"amount": 1, "check_in_id": str(uuid.uuid4())}
    return "check-ins", check_in, {**clinic.client.headers, **keyed}


async def test_keyed_unkeyed_one_trip_and_batched_writes_on_one_goal_all_go_in_once(
    api: AsyncTestClient[Litestar], clinic: Clinic, pool: asyncpg.Pool, database_url: str
) -> None:
    goal_id = (await set_goal(api, clinic))["goal_id"]
    watcher = await asyncpg.connect(database_url)
    sessions_before = await _sessions(watcher)
    deadlocks_before = await _deadlocks(watcher)
    acknowledged: list[dict[str, Any]] = []
    statuses: list[int] = []
    # One client writes a wave at a time: a rate limit's burst bound would answer 429s.
    settings = Settings(
        database_url=database_url,
        token_hash_key=TOKEN_KEY,
        log_format="json",
        rate_limit_requests=0,
    )
    with serving(create_app(settings)) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

            async def write(n: int) -> None:
                kind, body, headers = _request(goal_id, clinic, n)
                answer = await client.post(
                    f"/v1/goals/{goal_id}/{kind}", json=body, headers=headers
                )
                statuses.append(answer.status_code)
                if answer.status_code == 200:
                    acknowledged.append({"kind": kind, "body": body})

            for _ in range(WAVES):
                await asyncio.gather(*(write(n) for n in range(PER_WAVE)))
    try:
        await _ended(watcher, sessions_before)
        deadlocks_after = await _deadlocks(watcher)
    finally:
        await watcher.close()

    assert statuses == [200] * WAVES * PER_WAVE
    assert deadlocks_after == deadlocks_before
    events = await pool.fetch(
        "SELECT event_type, data->>'check_in_id' AS check_in_id FROM events WHERE stream_id = $1",
        f"goal-{goal_id}",
    )
    checked_in = sorted(row["check_in_id"] for row in events if row["check_in_id"] is not None)
    written_check_ins = sorted(
        item["body"]["check_in_id"] for item in acknowledged if item["kind"] == "check-ins"
    )
    assert checked_in == written_check_ins
    adjustments = [row for row in events if row["event_type"] == "goal_adjusted"]
    assert len(adjustments) == sum(1 for item in acknowledged if item["kind"] == "adjustments")
    assert len(events) == 1 + len(acknowledged)
