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
from services.api.progress.schemas import (
    GoalSummaryOut,
    Projected,
    SharedSummaryOut,
    ThisPeriod,
)


def projected(mark: Watermark) -> Projected:
    return Projected(mark.position, mark.stale)


def summary_out(
    summary: GoalSummary,
    check_ins: dict[UUID, list[CountedCheckIn]],
    now: datetime,
    *,
    shared: bool = False,
) -> GoalSummaryOut | SharedSummaryOut:
    """The summary as of `now`; `shared` for a supporter, who sees less."""
    terms = summary.terms
    today = local_day(now, terms.time_zone)
    counted = check_ins.get(summary.goal_id, [])
    # The current period, and the two finished ones before it that say how it goes.
    periods = series(terms, counted, today, periods=3)
    current = periods[-1] if periods and periods[-1].end > today else None
    this_period = (
        None
        if current is None
        else ThisPeriod(current.start, current.end, current.done, current.target)
    )
    how_it_goes = achievement_status(summary.status, periods, today)
    days_to_due = (terms.due_date - today).days
    if shared:
        return SharedSummaryOut(
            summary.goal_id,
            terms.statement,
            summary.status,
            how_it_goes,
            terms.measure,
            this_period,
            streak(terms, counted, today),
            summary.last_check_in_at,
            terms.due_date,
            days_to_due,
            summary.version,
        )
    return GoalSummaryOut(
        summary.goal_id,
        summary.client_id,
        terms.statement,
        terms.life_area,
        summary.status,
        how_it_goes,
        terms.measure,
        this_period,
        streak(terms, counted, today),
        summary.last_check_in_at,
        terms.due_date,
        days_to_due,
        summary.version,
    )
