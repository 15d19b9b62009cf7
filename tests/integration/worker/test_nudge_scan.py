"""The nudge scan in the worker service: with two services running, each scans, one at a time,
and every due nudge goes out once."""

from datetime import UTC, datetime, timedelta

import asyncpg

from tests.integration.nudges.world import people, set_goal, terms
from tests.integration.worker.launcher import WorkerServices
from tests.integration.worker.projection import wait_for_service, wait_until

BOOT_SECONDS = 20
SCAN_SECONDS = 0.2
GOALS = 3


async def _sent(pool: asyncpg.Pool) -> tuple[int, int]:
    rows = await pool.fetchval("SELECT count(*) FROM nudges WHERE status = 'sent'")
    events = await pool.fetchval("SELECT count(*) FROM events WHERE event_type = 'nudge_sent'")
    return rows, events


async def test_two_worker_services_scan_one_at_a_time_and_send_each_nudge_once(
    worker_services: WorkerServices, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        world = await people(conn, client_zone="UTC")
        # Reminders from midnight, and no quiet hours: whatever the hour, they are due now.
        await conn.execute(
            "INSERT INTO notification_preferences (user_id, quiet_start, quiet_end, "
            "reminder_time, daily_cap) VALUES ($1, '00:00', '00:00', '00:00', 20)",
            world.client.id,
        )
        now = datetime.now(UTC)
        for index in range(GOALS):
            goal = terms(
                f"Daily goal {index}",
                start=now.date() - timedelta(days=1),
                due=now.date() + timedelta(days=20),
                zone="UTC",
            )
            await set_goal(conn, world, goal, now)

    scanning = {"NUDGE_SCAN_SECONDS": str(SCAN_SECONDS)}
    services = [worker_services.start(**scanning), worker_services.start(**scanning)]
    for service in services:
        assert await wait_for_service(service, pool, BOOT_SECONDS)

    async def all_sent() -> bool:
        return await _sent(pool) == (GOALS, GOALS)

    assert await wait_until(all_sent, BOOT_SECONDS)

    async def both_scanned_again() -> bool:
        return all(len(service.logged("nudge_scan")) >= 5 for service in services)

    assert await wait_until(both_scanned_again, BOOT_SECONDS)
    assert await _sent(pool) == (GOALS, GOALS)
    sent_by_each = [
        sum(record["sent"] for record in service.logged("nudge_scan")) for service in services
    ]
    assert sum(sent_by_each) == GOALS
