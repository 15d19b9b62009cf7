from datetime import date, datetime
from uuid import UUID

import msgspec

from domain.goals.progress import Period
from domain.goals.terms import Cadence, LifeArea, Measure
from infra.projections.reads import MonthlyStatistics


class Projected(msgspec.Struct, frozen=True):
    """Which log position a projection read reflects."""

    position: int
    stale: bool
    """True when `min_position` was asked for and not reached within 2 seconds."""


class ThisPeriod(msgspec.Struct, frozen=True):
    start: date
    end: date
    done: float
    target: float


class GoalSummaryOut(msgspec.Struct, frozen=True, tag="summary", tag_field="view"):
    goal_id: UUID
    client_id: UUID
    statement: str
    life_area: LifeArea
    status: str
    achievement_status: str
    """FHIR goal-achievement code."""
    measure: Measure
    this_period: ThisPeriod | None
    streak: int
    last_check_in_at: datetime | None
    due_date: date
    days_to_due: int
    version: int


class SharedSummaryOut(msgspec.Struct, frozen=True, tag="shared_summary", tag_field="view"):
    """What an accountability partner sees in a list: no notes, no reflections, no client."""

    goal_id: UUID
    statement: str
    status: str
    achievement_status: str
    measure: Measure
    this_period: ThisPeriod | None
    streak: int
    last_check_in_at: datetime | None
    due_date: date
    days_to_due: int
    version: int


class GoalList(msgspec.Struct, frozen=True):
    goals: list[GoalSummaryOut | SharedSummaryOut]
    """At most `limit`, the newest set first."""
    projected: Projected
    next_cursor: str | None = None
    """Set when more goals follow: send it as `cursor` for the next page."""


class ProgressOut(msgspec.Struct, frozen=True):
    goal_id: UUID
    cadence: Cadence
    time_zone: str
    periods: list[Period]
    """At most the `periods` asked for, oldest first."""
    streak: int
    achievement_status: str
    """Of the goal as it is now, whichever page this is."""
    projected: Projected
    earlier: date | None = None
    """Set when the goal has periods before this page: send it as `before` for them."""


class OverviewOut(msgspec.Struct, frozen=True):
    client_id: UUID
    active: int
    paused: int
    achieved: int
    missed: int
    cancelled: int
    overloaded: bool
    """More active goals than the clinic's limit."""
    rated_goals: int
    attainment_t_score: float | None
    """Goal Attainment Scaling T-score over the rated goals (50 = as expected)."""
    projected: Projected


class CaseloadEntry(msgspec.Struct, frozen=True):
    client_id: UUID
    display_name: str
    active_goals: int
    no_check_in_7_days: bool
    behind_pace: bool
    due_within_7_days: bool
    missed_last_14_days: bool
    flag_count: int


class CaseloadPage(msgspec.Struct, frozen=True):
    clients: list[CaseloadEntry]
    next_cursor: str | None
    projected: Projected


class ClinicStatistics(msgspec.Struct, frozen=True):
    months: list[MonthlyStatistics]
    projected: Projected
