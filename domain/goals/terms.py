"""The vocabulary a goal is written in: life areas, measures, cadences, priorities."""

from datetime import date
from typing import Literal

import msgspec

LifeArea = Literal["relationships", "work_school", "mental_health", "physical_health", "other"]
MeasureKind = Literal["count", "duration_minutes", "rating_0_10", "done"]
Cadence = Literal["per_day", "per_week", "per_month", "by_due_date"]
Priority = Literal["high", "medium", "low"]
MissCause = Literal["unrealistic", "obstacles", "misaligned_with_values", "other"]
GoalStatus = Literal["active", "paused", "achieved", "missed", "cancelled", "entered_in_error"]
Role = Literal["admin", "therapist", "client", "supporter", "auditor", "integration"]


class Measure(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    """What is counted or rated, how much of it, and over which period.

    "Walk 30 minutes, 3 times a week" is kind=count, target=3, unit="walks", cadence=per_week.
    """

    kind: MeasureKind
    target: float
    unit: str
    cadence: Cadence


class GoalTerms(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    """Everything the client and therapist agreed a goal is; adjustments change these."""

    statement: str
    life_area: LifeArea
    values: tuple[str, ...]
    measure: Measure
    cue: str | None
    start_date: date
    due_date: date
    priority: Priority
    time_zone: str
