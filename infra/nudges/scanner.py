"""The periodic scan: time-based nudges found from the goals' state, then every stored nudge
that is due delivered.

Exactly one scanner runs at a time, however many worker services do: each pass takes a
PostgreSQL advisory lock on its connection and a pass that finds it taken does nothing. The lock
is the session's, so a scanner that dies (or whose connection is cut) lets it go at once. Nothing
is kept in memory between passes: what is due comes from the goals and the stored nudges, so a
pass after a restart, or after passes were missed, finds the same work.
"""

from datetime import datetime, time, timedelta
from uuid import UUID

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

_ACTIVE_GOALS = """
SELECT g.goal_id, g.client_id, u.clinic_id, g.terms::text AS terms,
    coalesce(p.reminder_time, '09:00'::time) AS reminder_time,
    array(SELECT therapist_id FROM care_team t WHERE t.client_id = g.client_id
          ORDER BY therapist_id) AS therapists,
    array(SELECT c.amount FROM goal_check_ins c WHERE c.goal_id = g.goal_id
            AND NOT c.entered_in_error AND (c.occurred_at >= $2 OR g.cadence = 'by_due_date')
          ORDER BY c.occurred_at, c.check_in_id) AS amounts,
    array(SELECT c.occurred_at FROM goal_check_ins c WHERE c.goal_id = g.goal_id
            AND NOT c.entered_in_error AND (c.occurred_at >= $2 OR g.cadence = 'by_due_date')
          ORDER BY c.occurred_at, c.check_in_id) AS moments
FROM goal_summaries g
JOIN users u ON u.id = g.client_id AND u.deactivated_at IS NULL
LEFT JOIN notification_preferences p ON p.user_id = g.client_id
WHERE g.status = 'active' AND g.stalled_at_version IS NULL AND g.goal_id > $1
ORDER BY g.goal_id
LIMIT $3
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


async def _goal_nudges(
    conn: Connection, now: datetime, due_soon_days: int
) -> tuple[int, list[Nudge]]:
    found: list[Nudge] = []
    goals = 0
    after = UUID(int=0)
    while True:
        rows = await conn.fetch(_ACTIVE_GOALS, after, now - CHECK_INS_LOOK_BACK, GOALS_PER_BATCH)
        if not rows:
            return goals, found
        goals += len(rows)
        after = rows[-1]["goal_id"]
        for row in rows:
            reminder_time: time = row["reminder_time"]
            goal = GoalFacts(
                goal_id=row["goal_id"],
                client_id=row["client_id"],
                clinic_id=row["clinic_id"],
                terms=_decode_terms(row["terms"]),
                status="active",
                therapists=tuple(row["therapists"]),
                check_ins=tuple(
                    CountedCheckIn(amount, moment)
                    for amount, moment in zip(row["amounts"], row["moments"], strict=True)
                ),
            )
            found += goal_nudges(goal, reminder_time, now, due_soon_days)


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
