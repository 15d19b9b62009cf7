"""The periodic scan: time-based nudges found from the goals' state, then every stored nudge
that is due delivered.

Exactly one scanner runs at a time, however many worker services do: each pass takes a
PostgreSQL advisory lock on its connection and a pass that finds it taken does nothing. The lock
is the session's, so a scanner that dies (or whose connection is cut) lets it go at once. Nothing
is kept in memory between passes: what is due comes from the goals and the stored nudges, so a
pass after a restart, or after passes were missed, finds the same work.
"""

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from uuid import UUID

import asyncpg
import msgspec

from domain.goals.progress import CountedCheckIn
from domain.goals.terms import GoalTerms
from domain.nudges.nudge import Nudge
from domain.nudges.scan import ClientLoad, GoalFacts, goal_nudges, overload_nudge
from infra.db.connection import Connection
from infra.nudges.delivery import Delivered, deliver_due
from infra.nudges.email import EmailChannel
from infra.nudges.stored import Origin, store

# Any constant works; it keeps two scanners from running at once.
SCAN_LOCK = 7_140_010
GOALS_PER_BATCH = 5_000
# A month is the longest period a check-in counts towards (and a day for time zones besides);
# a goal counted to its due date needs all of its check-ins.
CHECK_INS_LOOK_BACK = timedelta(days=33)

_decode_terms = msgspec.json.Decoder(GoalTerms).decode

# Each active goal with the check-ins that can count towards its current period: those of the
# last month and a day, or all of them for a goal counted to its due date.
_ACTIVE_GOALS = """
SELECT g.goal_id, g.client_id, u.clinic_id, g.terms::text AS terms, g.due_date,
    coalesce(p.reminder_time, '09:00'::time) AS reminder_time,
    coalesce(c.amounts, '{}') AS amounts, coalesce(c.moments, '{}') AS moments
FROM goal_summaries g
JOIN users u ON u.id = g.client_id AND u.deactivated_at IS NULL
LEFT JOIN notification_preferences p ON p.user_id = g.client_id
LEFT JOIN (
    SELECT c.goal_id, array_agg(c.amount ORDER BY c.occurred_at) AS amounts,
        array_agg(c.occurred_at ORDER BY c.occurred_at) AS moments
    FROM goal_check_ins c JOIN goal_summaries a ON a.goal_id = c.goal_id
    WHERE a.status = 'active' AND NOT c.entered_in_error
        AND (c.occurred_at >= $1 OR a.cadence = 'by_due_date')
    GROUP BY c.goal_id
) c ON c.goal_id = g.goal_id
WHERE g.status = 'active' AND g.stalled_at_version IS NULL
"""

_THERAPISTS = """
SELECT client_id, therapist_id FROM care_team WHERE client_id = ANY ($1::uuid[])
ORDER BY client_id, therapist_id
"""

_OVERLOADED = """
SELECT g.client_id, u.clinic_id, c.active_goal_limit, count(*) AS active,
    (array_agg(g.goal_id ORDER BY g.set_at DESC, g.goal_id DESC))[1] AS newest_goal_id
FROM goal_summaries g
JOIN users u ON u.id = g.client_id AND u.deactivated_at IS NULL
JOIN clinics c ON c.id = u.clinic_id
WHERE g.status = 'active'
GROUP BY g.client_id, u.clinic_id, c.active_goal_limit
HAVING count(*) > c.active_goal_limit
"""


class Scanned(msgspec.Struct):
    goals: int
    found: int
    stored: int
    delivered: Delivered


async def _batch_facts(
    conn: Connection, rows: list[asyncpg.Record], now: datetime
) -> Iterator[tuple[GoalFacts, time]]:
    therapists: dict[UUID, list[UUID]] = defaultdict(list)
    # Only the overdue rule speaks to therapists, once a goal's due date has passed in its own
    # zone, whose date is at most a day ahead of UTC's.
    overdue_before = now.date() + timedelta(days=1)
    clients = list({row["client_id"] for row in rows if row["due_date"] < overdue_before})
    if clients:
        for found in await conn.fetch(_THERAPISTS, clients):
            therapists[found["client_id"]].append(found["therapist_id"])
    return (
        (
            GoalFacts(
                goal_id=row["goal_id"],
                client_id=row["client_id"],
                clinic_id=row["clinic_id"],
                terms=_decode_terms(row["terms"]),
                status="active",
                therapists=tuple(therapists[row["client_id"]]),
                check_ins=tuple(map(CountedCheckIn, row["amounts"], row["moments"])),
            ),
            row["reminder_time"],
        )
        for row in rows
    )


async def _goal_nudges(
    conn: Connection, now: datetime, due_soon_days: int
) -> tuple[int, list[Nudge]]:
    """Every active goal, read through one cursor (one plan for the whole scan, where pages
    of a keyset would each join the users again), a batch at a time."""
    found: list[Nudge] = []
    goals = 0
    async with conn.transaction(readonly=True):
        # The whole result is read: plan for all of it, not for its first rows.
        await conn.execute("SET LOCAL cursor_tuple_fraction = 1")
        cursor = await conn.cursor(_ACTIVE_GOALS, now - CHECK_INS_LOOK_BACK)
        while rows := await cursor.fetch(GOALS_PER_BATCH):
            goals += len(rows)
            for goal, reminder_time in await _batch_facts(conn, rows, now):
                found += goal_nudges(goal, reminder_time, now, due_soon_days)
    return goals, found


async def _overload_nudges(conn: Connection, now: datetime) -> list[Nudge]:
    found = []
    for row in await conn.fetch(_OVERLOADED):
        load = ClientLoad(
            row["client_id"],
            row["clinic_id"],
            row["active"],
            row["newest_goal_id"],
            row["active_goal_limit"],
        )
        nudge = overload_nudge(load, now)
        if nudge is not None:
            found.append(nudge)
    return found


async def scan(
    conn: Connection, now: datetime, *, due_soon_days: int, email: EmailChannel | None
) -> Scanned | None:
    """One pass at `now`; None if another scanner holds the lock. `conn` is outside any
    transaction: the pass commits as it goes."""
    if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", SCAN_LOCK):
        return None
    try:
        goals, found = await _goal_nudges(conn, now, due_soon_days)
        found += await _overload_nudges(conn, now)
        origin = Origin(f"nudge-scan-{now.isoformat(timespec='minutes')}")
        stored = await store(conn, found, now=now, origins=[origin] * len(found))
        delivered = await deliver_due(conn, now, email)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", SCAN_LOCK)
    return Scanned(goals, len(found), len(stored), delivered)
