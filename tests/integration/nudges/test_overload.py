"""A client past their clinic's limit of active goals gets one gentle prompt for the goal that
took them past it, and another only if a further goal is set while still past it."""

from datetime import UTC, datetime, time, timedelta

from infra.db.connection import Connection
from infra.nudges.scanner import scan
from tests.integration.nudges.world import people, set_goal, terms


async def test_one_prompt_per_goal_past_the_limit(conn: Connection) -> None:
    world = await people(conn, client_zone="UTC")
    await conn.execute("UPDATE clinics SET active_goal_limit = 2 WHERE id = $1", world.clinic_id)
    # The goals' own reminders are not this test's subject: room for all of them.
    await conn.execute(
        "INSERT INTO notification_preferences (user_id, daily_cap) VALUES ($1, 20)",
        world.client.id,
    )
    now = datetime.now(UTC)
    noon = datetime.combine(now.date() + timedelta(days=1), time(12), tzinfo=UTC)

    async def new_goal(name: str) -> None:
        goal = terms(
            name,
            start=now.date(),
            due=now.date() + timedelta(days=90),
            zone="UTC",
            cadence="by_due_date",
            kind="done",
        )
        await set_goal(conn, world, goal, now)

    async def prompts() -> list[str]:
        rows = await conn.fetch(
            "SELECT message FROM nudges WHERE kind = 'overload' AND status = 'sent' "
            "ORDER BY sent_at"
        )
        return [row["message"] for row in rows]

    for name in ("First goal", "Second goal"):
        await new_goal(name)
    await scan(conn, noon, due_soon_days=3, email=None)
    assert await prompts() == []

    await new_goal("Third goal")
    for minute in range(3):
        await scan(conn, noon + timedelta(minutes=minute), due_soon_days=3, email=None)
    assert len(await prompts()) == 1
    assert "3 active goals" in (await prompts())[0]

    await new_goal("Fourth goal")
    await scan(conn, noon + timedelta(minutes=5), due_soon_days=3, email=None)
    assert len(await prompts()) == 2
