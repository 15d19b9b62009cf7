"""Reading the goal projection: summaries, check-ins, clinic statistics, and how far it is."""

import asyncio
import time
from datetime import datetime
from uuid import UUID

import msgspec

from domain.goals.progress import CountedCheckIn
from domain.goals.summary import GoalSummary
from infra.db.connection import Connection
from infra.projections.goal_summaries import SELECTED_COLUMNS, summary_from


class Watermark(msgspec.Struct, frozen=True):
    """Every committed event at or below `position` is in the projection."""

    position: int
    stale: bool = False
    """True when the read asked for a later position and waiting for it timed out."""


async def summaries_of_clients(conn: Connection, client_ids: list[UUID]) -> list[GoalSummary]:
    rows = await conn.fetch(
        f"SELECT {SELECTED_COLUMNS} FROM goal_summaries WHERE client_id = ANY($1::uuid[]) "  # noqa: S608
        "ORDER BY set_at, goal_id",
        client_ids,
    )
    return [summary_from(row) for row in rows]


async def summaries_shared_with(
    conn: Connection, clinic_id: UUID, supporter_id: UUID
) -> list[GoalSummary]:
    rows = await conn.fetch(
        f"SELECT {SELECTED_COLUMNS} FROM goal_summaries "  # noqa: S608
        "WHERE supporters @> ARRAY[$1::uuid] AND clinic_id = $2 ORDER BY set_at, goal_id",
        supporter_id,
        clinic_id,
    )
    return [summary_from(row) for row in rows]


async def summaries_by_id(conn: Connection, goal_ids: list[UUID]) -> list[GoalSummary]:
    rows = await conn.fetch(
        f"SELECT {SELECTED_COLUMNS} FROM goal_summaries WHERE goal_id = ANY($1::uuid[]) "  # noqa: S608
        "ORDER BY set_at, goal_id",
        goal_ids,
    )
    return [summary_from(row) for row in rows]


async def counted_check_ins(
    conn: Connection, goal_ids: list[UUID], since: datetime | None = None
) -> dict[UUID, list[CountedCheckIn]]:
    """Check-ins not entered in error, by goal."""
    rows = await conn.fetch(
        """
        SELECT goal_id, amount, occurred_at FROM goal_check_ins
        WHERE goal_id = ANY($1::uuid[]) AND NOT entered_in_error
          AND ($2::timestamptz IS NULL OR occurred_at >= $2)
        ORDER BY occurred_at
        """,
        goal_ids,
        since,
    )
    found: dict[UUID, list[CountedCheckIn]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(CountedCheckIn(row[1], row[2]))
    return found


_FIRST_UNAPPLIED = """
SELECT min(e.position) FROM streams s
LEFT JOIN goal_summaries p ON p.goal_id = substr(s.stream_id, 6)::uuid
JOIN events e ON e.stream_id = s.stream_id AND e.stream_version = coalesce(p.version, 0) + 1
WHERE s.stream_id LIKE 'goal-%'
  AND s.version > coalesce(p.version, 0)
  AND p.stalled_at_version IS NULL
  AND NOT EXISTS (
      SELECT FROM projection_dead_letters d WHERE d.goal_id = substr(s.stream_id, 6)::uuid
  )
"""


async def _log_head(conn: Connection) -> int:
    return int(await conn.fetchval("SELECT coalesce(max(position), 0) FROM events"))


async def watermark(conn: Connection) -> int:
    first_unapplied = await conn.fetchval(_FIRST_UNAPPLIED)
    if first_unapplied is not None:
        return int(first_unapplied) - 1
    return await _log_head(conn)


async def wait_for(
    conn: Connection, min_position: int | None, wait_seconds: float = 2.0
) -> Watermark:
    """How far the projection is, after waiting up to `wait_seconds` for `min_position`.

    A position past the end of the log was never handed out, so it is not waited for.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        reached = await watermark(conn)
        if min_position is None or reached >= min_position:
            return Watermark(reached)
        if time.monotonic() >= deadline or min_position > await _log_head(conn):
            return Watermark(reached, stale=True)
        await asyncio.sleep(0.05)


class MonthlyStatistics(msgspec.Struct, frozen=True):
    month: str
    life_area: str
    goals_set: int
    achieved: int
    missed: int
    achievement_rate: float | None
    median_days_to_achieve: float | None


async def clinic_statistics(conn: Connection, clinic_id: UUID) -> list[MonthlyStatistics]:
    """Counts per month and life area: no one is named or can be picked out by id."""
    rows = await conn.fetch(
        """
        WITH months AS (
            SELECT to_char(set_at, 'YYYY-MM') AS month, life_area, 1 AS set_count,
                   0 AS achieved, 0 AS missed, NULL::double precision AS days
            FROM goal_summaries WHERE clinic_id = $1 AND status <> 'entered_in_error'
            UNION ALL
            SELECT to_char(ended_at, 'YYYY-MM'), life_area, 0,
                   (status = 'achieved')::int, (status = 'missed')::int,
                   CASE WHEN status = 'achieved'
                        THEN extract(epoch FROM ended_at - set_at) / 86400 END
            FROM goal_summaries
            WHERE clinic_id = $1 AND status IN ('achieved', 'missed')
        )
        SELECT month, life_area, sum(set_count)::int, sum(achieved)::int, sum(missed)::int,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY days) FILTER (WHERE days IS NOT NULL)
        FROM months GROUP BY month, life_area ORDER BY month, life_area
        """,
        clinic_id,
    )
    return [
        MonthlyStatistics(
            month=row[0],
            life_area=row[1],
            goals_set=row[2],
            achieved=row[3],
            missed=row[4],
            achievement_rate=round(row[3] / (row[3] + row[4]), 3) if row[3] + row[4] else None,
            median_days_to_achieve=None if row[5] is None else round(row[5], 1),
        )
        for row in rows
    ]
