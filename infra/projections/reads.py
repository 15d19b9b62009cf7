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
    """How far the projection is, as a read saw it."""

    position: int
    """The highest log position the projection has applied. It never goes backwards; it is
    not a promise about every lower position, since positions are not handed out in the order
    writes commit (see docs/event-log.md)."""
    stale: bool = False
    """True when the write the read asked for (`min_position`) was not applied in time, or when
    a goal the read covers is behind its log or stalled on an event it cannot apply."""

    def covering(self, read: "SummaryRead") -> "Watermark":
        return Watermark(self.position, self.stale or read.behind)


class SummaryRead(msgspec.Struct, frozen=True):
    goals: list[GoalSummary]
    behind: bool
    """Whether any of them is behind its log or stalled, as of the same statement."""


# Per summary row, in the statement that reads it: whether its goal's log has gone on past it,
# or its goal is stalled. Read in the same snapshot as the row, so it is true of that row.
_BEHIND = """(p.stalled_at_version IS NOT NULL OR EXISTS (
    SELECT FROM streams s WHERE s.stream_id = 'goal-' || p.goal_id::text AND s.version > p.version
))"""


async def _summaries(conn: Connection, where: str, *arguments: object) -> SummaryRead:
    rows = await conn.fetch(
        f"SELECT {SELECTED_COLUMNS}, {_BEHIND} AS behind FROM goal_summaries p WHERE {where} "  # noqa: S608
        "ORDER BY set_at, goal_id",
        *arguments,
    )
    return SummaryRead([summary_from(row) for row in rows], any(row["behind"] for row in rows))


async def summaries_of_clients(conn: Connection, client_ids: list[UUID]) -> SummaryRead:
    return await _summaries(conn, "client_id = ANY($1::uuid[])", client_ids)


async def summaries_shared_with(
    conn: Connection, clinic_id: UUID, supporter_id: UUID
) -> SummaryRead:
    return await _summaries(
        conn, "supporters @> ARRAY[$1::uuid] AND clinic_id = $2", supporter_id, clinic_id
    )


async def summaries_by_id(conn: Connection, goal_ids: list[UUID]) -> SummaryRead:
    return await _summaries(conn, "goal_id = ANY($1::uuid[])", goal_ids)


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


# How far the projection is, and whether the event at $1 (a write's position) is still to be
# applied: true while its goal's summary is before it (a stalled goal's stays before it), false
# once applied, null when no event has that position. Applied events stay applied, so the
# highest applied position never goes backwards: a rebuild switches in tables caught up at
# least as far as the live ones (rebuild.py).
_PROGRESS = """
SELECT (SELECT coalesce(max(last_position), 0) FROM goal_summaries) AS applied,
       (SELECT coalesce(max(position), 0) FROM events) AS head,
       (SELECT e.stream_id LIKE 'goal-%' AND NOT EXISTS (
            SELECT FROM goal_summaries p
            WHERE p.goal_id = substr(e.stream_id, 6)::uuid AND p.version >= e.stream_version
        ) FROM events e WHERE e.position = $1) AS pending
"""


async def wait_for(
    conn: Connection, min_position: int | None, wait_seconds: float = 2.0
) -> Watermark:
    """How far the projection is, after waiting up to `wait_seconds` for the write at
    `min_position` to be applied. A position past the end of the log was never handed out, so
    it is not waited for."""
    deadline = time.monotonic() + wait_seconds
    while True:
        (row,) = await conn.fetch(_PROGRESS, min_position)
        applied, head, pending = row["applied"], row["head"], row["pending"]
        if min_position is None or pending is False:
            return Watermark(applied)
        if pending is None and min_position <= head:
            return Watermark(applied)  # a position no committed write holds: nothing to wait for
        if time.monotonic() >= deadline or min_position > head:
            return Watermark(applied, stale=True)
        await asyncio.sleep(0.05)


async def clinic_goals_behind(conn: Connection, clinic_id: UUID) -> bool:
    """Whether any goal of the clinic is behind its log or stalled; asked before reading the
    statistics, so that a goal that falls behind after it is a later write's, not this read's."""
    return bool(
        await conn.fetchval(
            f"SELECT EXISTS (SELECT FROM goal_summaries p WHERE clinic_id = $1 AND {_BEHIND})",  # noqa: S608
            clinic_id,
        )
    )


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
