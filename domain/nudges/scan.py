"""Time-based nudges: what a goal's state and the clock make due, found by the periodic scan.

Pure: a goal's facts, the client's reminder time and `now` in, nudges out. Each nudge is found
again at every scan for as long as it is due, under the same key, so a scan that was missed (the
worker service down, a restart) is made up by the next one, and two scans store it once.
"""

from datetime import date, datetime, time, timedelta
from statistics import fmean
from uuid import UUID

import msgspec

from domain.goals.progress import (
    CountedCheckIn,
    Period,
    expected_by_now,
    period_end,
    period_start,
)
from domain.goals.terms import GoalStatus, GoalTerms
from domain.nudges import messages
from domain.nudges.cues import cue_time
from domain.nudges.nudge import Nudge, nudge_key
from domain.nudges.preferences import at_local, local_time

DEFAULT_DUE_SOON_DAYS = 3


class GoalFacts(msgspec.Struct, frozen=True, gc=False):
    goal_id: UUID
    client_id: UUID
    clinic_id: UUID
    terms: GoalTerms
    status: GoalStatus
    therapists: tuple[UUID, ...]
    check_ins: tuple[CountedCheckIn, ...]
    """At least those of the current period (older ones change nothing here)."""


class ClientLoad(msgspec.Struct, frozen=True, gc=False):
    client_id: UUID
    clinic_id: UUID
    active_goals: int
    newest_goal_id: UUID
    """The active goal set last: the one that took the client over the limit, or the latest of
    those past it."""
    limit: int


def _behind_pace(period: Period, cadence: str, day: datetime) -> bool:
    """Behind what a steady pace would have reached: by the end of today for a daily goal (it
    has no earlier day to be behind by), by the start of today for longer periods."""
    if period.met:
        return False
    if cadence == "per_day":
        return True
    return period.done < expected_by_now(period, day.date())


def current_period(terms: GoalTerms, check_ins: tuple[CountedCheckIn, ...], day: date) -> Period:
    """The period holding `day`, as `series` would give it, for one period alone: a scan asks
    this of every active goal each minute, so the check-ins are placed by comparing moments,
    not by converting each to a local day."""
    cadence, zone = terms.measure.cadence, terms.time_zone
    start = period_start(day, cadence, terms.start_date)
    end = period_end(start, cadence, terms.due_date)
    first, after = at_local(start, time(0), zone), at_local(end, time(0), zone)
    amounts = [check_in.amount for check_in in check_ins if first <= check_in.occurred_at < after]
    rated = terms.measure.kind == "rating_0_10"
    done = (fmean(amounts) if amounts else 0.0) if rated else float(sum(amounts))
    target = terms.measure.target
    return Period(start, end, done, target, done >= target, round(min(done / target, 1.0) * 100, 1))


def _check_in_reminder(
    goal: GoalFacts, reminder_time: time, now: datetime, today: datetime
) -> list[Nudge]:
    terms = goal.terms
    zone = terms.time_zone
    if not terms.start_date <= today.date() <= terms.due_date:
        return []
    remind_at = at_local(today.date(), cue_time(terms.cue) or reminder_time, zone)
    if now < remind_at:
        return []
    period = current_period(terms, goal.check_ins, today.date())
    if not _behind_pace(period, terms.measure.cadence, today):
        return []
    key = nudge_key("check_in_reminder", goal.goal_id, period.start.isoformat(), goal.client_id)
    text = messages.check_in_reminder(
        terms.statement, period.done, period.target, terms.measure.unit, terms.measure.cadence
    )
    stale_at = at_local(period.end, time(0, 0), zone)
    return [
        Nudge(
            key,
            "check_in_reminder",
            goal.client_id,
            goal.clinic_id,
            goal.goal_id,
            text,
            remind_at,
            stale_at,
        )
    ]


def _due_soon(
    goal: GoalFacts, reminder_time: time, now: datetime, day: date, due_soon_days: int
) -> list[Nudge]:
    terms = goal.terms
    zone = terms.time_zone
    first_day = terms.due_date - timedelta(days=due_soon_days)
    if not first_day <= day < terms.due_date:
        return []
    remind_at = at_local(day, reminder_time, zone)
    if now < remind_at:
        return []
    key = nudge_key("due_soon", goal.goal_id, terms.due_date.isoformat(), goal.client_id)
    stale_at = at_local(terms.due_date + timedelta(days=1), time(0, 0), zone)
    text = messages.due_soon(terms.statement, terms.due_date)
    return [
        Nudge(
            key, "due_soon", goal.client_id, goal.clinic_id, goal.goal_id, text, remind_at, stale_at
        )
    ]


def _overdue(goal: GoalFacts, reminder_time: time, now: datetime, day: date) -> list[Nudge]:
    """Once the due date has passed with no outcome: to the client and their therapists."""
    terms = goal.terms
    if day <= terms.due_date:
        return []
    zone = terms.time_zone
    day_after = terms.due_date + timedelta(days=1)
    remind_at = at_local(day_after, reminder_time, zone)
    if now < remind_at:
        return []
    occurrence = terms.due_date.isoformat()
    found = [
        Nudge(
            nudge_key("overdue", goal.goal_id, occurrence, goal.client_id),
            "overdue",
            goal.client_id,
            goal.clinic_id,
            goal.goal_id,
            messages.overdue_for_client(terms.statement, terms.due_date),
            remind_at,
            None,
        )
    ]
    for therapist in goal.therapists:
        found.append(
            Nudge(
                nudge_key("overdue", goal.goal_id, occurrence, therapist),
                "overdue",
                therapist,
                goal.clinic_id,
                goal.goal_id,
                messages.overdue_for_therapist(terms.statement, terms.due_date),
                remind_at,
                None,
            )
        )
    return found


def goal_nudges(
    goal: GoalFacts, reminder_time: time, now: datetime, due_soon_days: int = DEFAULT_DUE_SOON_DAYS
) -> list[Nudge]:
    """The time-based nudges an active goal has due at `now`; `reminder_time` is the client's."""
    if goal.status != "active":
        return []
    today = local_time(now, goal.terms.time_zone)
    return [
        *_check_in_reminder(goal, reminder_time, now, today),
        *_due_soon(goal, reminder_time, now, today.date(), due_soon_days),
        *_overdue(goal, reminder_time, now, today.date()),
    ]


def overload_nudge(load: ClientLoad, now: datetime) -> Nudge | None:
    """One gentle prompt to prioritise, for the goal that took the client past the clinic's
    limit; none while they are within it."""
    if load.active_goals <= load.limit:
        return None
    key = nudge_key("overload", load.client_id, str(load.newest_goal_id), load.client_id)
    text = messages.overload(load.active_goals, load.limit)
    return Nudge(
        key, "overload", load.client_id, load.clinic_id, None, text, now, now + timedelta(days=7)
    )
