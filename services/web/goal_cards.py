"""A goal as its card shows it, in plain words: what the template prints, worked out here so
that no rule lives in a template."""

from datetime import date
from uuid import UUID

import msgspec

from services.api.progress.schemas import GoalSummaryOut, SharedSummaryOut

_PERIOD_NAMES = {
    "per_day": "Today",
    "per_week": "This week",
    "per_month": "This month",
    "by_due_date": "So far",
}
_STREAK_UNITS = {"per_day": "day", "per_week": "week", "per_month": "month"}
_STATUS_WORDS = {
    "paused": "Paused for now",
    "achieved": "Achieved. Well done!",
    "missed": "Not this time",
    "cancelled": "Set aside",
}


class CheckInForm(msgspec.Struct, frozen=True):
    amount_label: str | None
    """None: the goal counts check-ins alone (done or not), so the form asks for no amount."""
    amount_min: float
    amount_max: float | None


class GoalCard(msgspec.Struct, frozen=True):
    goal_id: UUID
    statement: str
    period_name: str
    progress_text: str
    done: float
    target: float
    streak_text: str | None
    due_text: str
    status_text: str | None
    check_in: CheckInForm | None
    """None: the goal takes no check-ins now."""


def _number(value: float) -> str:
    return f"{value:g}"


def _due_text(due: date, days: int) -> str:
    when = f"{due:%-d %B %Y}"
    if days > 1:
        return f"{when} (in {days} days)"
    if days == 1:
        return f"{when} (tomorrow)"
    if days == 0:
        return f"{when} (today)"
    return when


def _streak_text(cadence: str, streak: int) -> str | None:
    unit = _STREAK_UNITS.get(cadence)
    if unit is None:
        return None
    if streak == 0:
        return f"A new streak starts with this {unit}."
    plural = unit if streak == 1 else f"{unit}s"
    return f"{streak} {plural} in a row"


def _check_in_form(kind: str, unit: str) -> CheckInForm:
    if kind == "done":
        return CheckInForm(None, 1, 1)
    if kind == "rating_0_10":
        return CheckInForm("Your rating (0 to 10)", 0, 10)
    if kind == "duration_minutes":
        return CheckInForm("Minutes", 1, None)
    return CheckInForm(f"How many {unit}", 1, None)


def goal_card(summary: GoalSummaryOut | SharedSummaryOut) -> GoalCard:
    measure = summary.measure
    period = summary.this_period
    done = 0.0 if period is None else period.done
    target = measure.target if period is None else period.target
    unit = measure.unit
    active = summary.status == "active"
    return GoalCard(
        goal_id=summary.goal_id,
        statement=summary.statement,
        period_name=_PERIOD_NAMES.get(measure.cadence, "So far"),
        progress_text=f"{_number(done)} of {_number(target)} {unit}",
        done=min(done, target),
        target=target,
        streak_text=_streak_text(measure.cadence, summary.streak),
        due_text=_due_text(summary.due_date, summary.days_to_due),
        status_text=None if active else _STATUS_WORDS.get(summary.status, summary.status),
        check_in=_check_in_form(measure.kind, unit) if active else None,
    )
