"""Turning projection rows into what people read, as of now."""

from datetime import datetime
from uuid import UUID

from domain.goals.progress import (
    CountedCheckIn,
    achievement_status,
    local_day,
    series,
    streak,
)
from domain.goals.summary import GoalSummary
from infra.projections.reads import Watermark
from services.api.progress.schemas import GoalSummaryOut, Projected, ThisPeriod


def projected(mark: Watermark) -> Projected:
    return Projected(mark.position, mark.stale)


def summary_out(
    summary: GoalSummary, check_ins: dict[UUID, list[CountedCheckIn]], now: datetime
) -> GoalSummaryOut:
    terms = summary.terms
    today = local_day(now, terms.time_zone)
    periods = series(terms, check_ins.get(summary.goal_id, []), today)
    current = periods[-1] if periods and periods[-1].end > today else None
    return GoalSummaryOut(
        goal_id=summary.goal_id,
        client_id=summary.client_id,
        statement=terms.statement,
        life_area=terms.life_area,
        status=summary.status,
        achievement_status=achievement_status(summary.status, periods, today),
        measure=terms.measure,
        this_period=(
            None
            if current is None
            else ThisPeriod(current.start, current.end, current.done, current.target)
        ),
        streak=streak(periods, today),
        last_check_in_at=summary.last_check_in_at,
        due_date=terms.due_date,
        days_to_due=(terms.due_date - today).days,
        version=summary.version,
    )
