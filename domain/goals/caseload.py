"""Which clients need a therapist's attention, from their goals' summaries and check-ins."""

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from uuid import UUID

import msgspec

from domain.goals.progress import CountedCheckIn, expected_by_now, local_day, series
from domain.goals.summary import GoalSummary

QUIET_DAYS = 7
DUE_SOON_DAYS = 7
RECENT_MISS_DAYS = 14


class ClientFlags(msgspec.Struct, frozen=True, gc=False):
    no_recent_check_in: bool
    behind_pace: bool
    due_soon: bool
    recently_missed: bool

    @property
    def count(self) -> int:
        return sum((self.no_recent_check_in, self.behind_pace, self.due_soon, self.recently_missed))


def _behind(goal: GoalSummary, check_ins: list[CountedCheckIn], today: date) -> bool:
    periods = series(goal.terms, check_ins, today, periods=1)
    if not periods or periods[-1].end <= today:
        return False
    current = periods[-1]
    return current.done < expected_by_now(current, today)


def client_flags(
    goals: Iterable[GoalSummary],
    check_ins: dict[UUID, list[CountedCheckIn]],
    now: datetime,
) -> ClientFlags:
    active = [goal for goal in goals if goal.status == "active"]
    ended = [goal for goal in goals if goal.status == "missed" and goal.ended_at]
    quiet_since = now - timedelta(days=QUIET_DAYS)
    no_recent = any((goal.last_check_in_at or goal.set_at) < quiet_since for goal in active)
    behind = any(
        _behind(goal, check_ins.get(goal.goal_id, []), local_day(now, goal.terms.time_zone))
        for goal in active
    )
    due_soon = any(
        0 <= (goal.terms.due_date - local_day(now, goal.terms.time_zone)).days <= DUE_SOON_DAYS
        for goal in active
    )
    missed = any(
        goal.ended_at is not None and goal.ended_at >= now - timedelta(days=RECENT_MISS_DAYS)
        for goal in ended
    )
    return ClientFlags(no_recent, behind, due_soon, missed)
