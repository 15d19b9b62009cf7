"""A day and a morning of nudges with a moving clock: the scan every 15 minutes, goals changing
in between, three people in three time zones. Exactly the expected nudges go out, each once, at
the expected moment."""

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.goals.commands import (
    AddSupporter,
    GoalCommand,
    MarkAchieved,
    RecordMiss,
    RecordProgress,
)
from infra.db.connection import Connection
from infra.nudges.scanner import scan
from tests.integration.nudges.world import People, people, run, set_goal, terms

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
STEP = timedelta(minutes=15)


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = NEW_YORK) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)


async def _goals(conn: Connection, world: People, today: date, day: date) -> dict[str, UUID]:
    now = datetime.now(UTC)
    zone = "America/New_York"
    start = today - timedelta(days=1)
    goals = {
        "cued": terms(
            "Stretch",
            start=start,
            due=day + timedelta(days=30),
            zone=zone,
            cue="every morning at 7:30, after coffee",
        ),
        "daily": terms("Drink water", start=start, due=day + timedelta(days=30), zone=zone),
        "due_soon": terms(
            "Call my sister",
            start=start,
            due=day + timedelta(days=2),
            zone=zone,
            cadence="by_due_date",
            kind="done",
        ),
        "overdue": terms(
            "Read a book",
            start=start,
            due=day - timedelta(days=1),
            zone=zone,
            cadence="by_due_date",
            kind="done",
        ),
        "achieved": terms(
            "Join a club",
            start=start,
            due=day + timedelta(days=30),
            zone=zone,
            cadence="by_due_date",
            kind="done",
        ),
        "missed": terms(
            "Run 5 km",
            start=start,
            due=day + timedelta(days=30),
            zone=zone,
            cadence="by_due_date",
            kind="done",
        ),
    }
    ids = {name: await set_goal(conn, world, goal, now) for name, goal in goals.items()}
    for name in ("due_soon", "achieved", "missed"):
        await run(
            conn, world, RecordProgress(ids[name], uuid.uuid4(), 1, now, world.by_therapist, now)
        )
    await run(
        conn, world, AddSupporter(ids["achieved"], world.supporter.id, world.by_therapist, now)
    )
    # The clinic's limit is another test's subject.
    await conn.execute("UPDATE clinics SET active_goal_limit = 10 WHERE id = $1", world.clinic_id)
    return ids


async def test_a_day_sends_exactly_the_expected_nudges(conn: Connection) -> None:
    world = await people(conn)
    today = datetime.now(NEW_YORK).date()
    day = today + timedelta(days=2)  # after everything written at the real time of the test
    next_day = day + timedelta(days=1)
    ids = await _goals(conn, world, today, day)
    happenings: dict[datetime, GoalCommand] = {
        at(day, 13): RecordProgress(
            ids["cued"], uuid.uuid4(), 1, at(day, 13), world.by_therapist, at(day, 13)
        ),
        at(day, 16): MarkAchieved(ids["achieved"], world.by_therapist, at(day, 16)),
        at(day, 22, 30): RecordMiss(
            ids["missed"], "obstacles", "No time", world.by_therapist, at(day, 22, 30)
        ),
    }
    clock = at(day, 0)
    while clock <= at(next_day, 8, 15):
        if clock in happenings:
            await run(conn, world, happenings[clock])
        assert await scan(conn, clock, due_soon_days=3, email=None) is not None
        clock += STEP

    rows = await conn.fetch(
        "SELECT recipient_id, kind, goal_id, status, sent_at, dropped_reason FROM nudges"
    )
    got = {
        (row["recipient_id"], row["kind"], row["goal_id"], row["sent_at"] or row["dropped_reason"])
        for row in rows
    }
    client, therapist, supporter = world.client.id, world.therapist.id, world.supporter.id
    assert got == {
        # 07:30 is in the client's quiet hours: the reminder waits for 08:00.
        (client, "check_in_reminder", ids["cued"], at(day, 8)),
        # At 09:00 three are due and the cap leaves room for two: the most pressing go.
        (client, "overdue", ids["overdue"], at(day, 9)),
        (client, "due_soon", ids["due_soon"], at(day, 9)),
        # 15:00 in Berlin.
        (therapist, "overdue", ids["overdue"], at(day, 9)),
        # The third waits for the next day, when its day is over: dropped.
        (client, "check_in_reminder", ids["daily"], "stale"),
        # Achieved at 16:00: the client is at the cap, Berlin (22:00) and UTC (21:00) are
        # quiet; each gets it the next morning, their own.
        (client, "celebration", ids["achieved"], at(next_day, 8)),
        (therapist, "celebration", ids["achieved"], at(next_day, 8, zone=BERLIN)),
        (supporter, "celebration", ids["achieved"], at(next_day, 8, zone=ZoneInfo("UTC"))),
        # Missed at 22:30, in the client's quiet hours.
        (client, "after_miss", ids["missed"], at(next_day, 8)),
        # A new day, a new reminder, on time: the cap is the day's.
        (client, "check_in_reminder", ids["cued"], at(next_day, 8)),
    }
    sent = await conn.fetchval("SELECT count(*) FROM nudges WHERE status = 'sent'")
    events = await conn.fetchval(
        "SELECT count(*) FROM events WHERE event_type = 'nudge_sent' AND stream_id LIKE 'nudge-%'"
    )
    assert events == sent == 9
    # Each says who (the service), why, and which flow: the celebration, the achievement's.
    celebrated = await conn.fetchrow(
        """
        SELECT e.metadata, a.metadata AS cause FROM events e
        JOIN nudges n ON e.stream_id = 'nudge-' || n.id
        JOIN events a ON a.event_id::text = n.causation_id
        WHERE e.event_type = 'nudge_sent' AND n.kind = 'celebration' AND n.recipient_id = $1
        """,
        client,
    )
    assert celebrated is not None
    metadata, cause = json.loads(celebrated["metadata"]), json.loads(celebrated["cause"])
    assert metadata["actor_role"] == "system"
    assert metadata["reason"] == "celebration due"
    assert metadata["correlation_id"] == cause["correlation_id"]
