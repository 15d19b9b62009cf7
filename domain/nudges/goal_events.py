"""Event-based nudges: what a goal's new events call for, found by the nudges consumer.

Pure: the goal as it was before an event (a fold of its earlier events), the event, when it was
recorded and who cares for the client, in; nudges out. Keys name the occurrence (the goal
achieved, a streak reached in a given period, the goal missed), so an event applied twice, or
a streak lost and reached again in the same period, is stored once.
"""

from datetime import datetime, timedelta
from uuid import UUID

import msgspec

from domain.goals.events import GoalAchieved, GoalEvent, GoalMissed, ProgressRecorded
from domain.goals.progress import CountedCheckIn, period_start, streak
from domain.goals.summary import EventFacts, GoalSummary, check_in_change, summarize
from domain.nudges import messages
from domain.nudges.nudge import Nudge, NudgeKind, nudge_key
from domain.nudges.preferences import local_time

# A celebration or a prompt after a miss still means something a few days on, not a month on.
CELEBRATION_KEEPS = timedelta(days=3)
AFTER_MISS_KEEPS = timedelta(days=7)


class CareTeam(msgspec.Struct, frozen=True, gc=False):
    """The client's clinic and therapists, as the clinic's records have them."""

    clinic_id: UUID
    therapists: tuple[UUID, ...]


class FoldedGoal(msgspec.Struct, frozen=True, gc=False):
    """What the nudge rules need of a goal: its summary and its check-ins that count."""

    summary: GoalSummary
    check_ins: tuple[tuple[UUID, CountedCheckIn], ...]
    """Each check-in that counts, by its id, in the order recorded."""

    @property
    def counted(self) -> list[CountedCheckIn]:
        return [check_in for _, check_in in self.check_ins]


def fold(goal: FoldedGoal | None, event: GoalEvent, facts: EventFacts) -> FoldedGoal:
    summary = summarize(None if goal is None else goal.summary, event, facts)
    check_ins = () if goal is None else goal.check_ins
    change = check_in_change(event)
    if change is not None:
        kept = dict(check_ins)
        if change.entered_in_error or change.occurred_at is None:
            kept.pop(change.check_in_id, None)
        else:
            kept[change.check_in_id] = CountedCheckIn(change.amount, change.occurred_at)
        check_ins = tuple(kept.items())
    return FoldedGoal(summary, check_ins)


def is_milestone(periods: int) -> bool:
    """3, 5, 10, then every 10: often enough to notice, rarely enough to mean something."""
    return periods in (3, 5) or (periods >= 10 and periods % 10 == 0)


def _to_everyone(
    kind: NudgeKind,
    goal: GoalSummary,
    clinic_id: UUID,
    *,
    occurrence: str,
    text: str,
    recipients: tuple[UUID, ...],
    at: datetime,
    keeps: timedelta,
) -> list[Nudge]:
    return [
        Nudge(
            nudge_key(kind, goal.goal_id, occurrence, recipient),
            kind,
            recipient,
            clinic_id,
            goal.goal_id,
            text,
            at,
            at + keeps,
        )
        for recipient in dict.fromkeys(recipients)
    ]


def _streak_reached(
    before: FoldedGoal, after: FoldedGoal, at: datetime, clinic_id: UUID
) -> list[Nudge]:
    terms = after.summary.terms
    if terms.measure.cadence == "by_due_date":
        return []
    today = local_time(at, terms.time_zone).date()
    was = streak(before.summary.terms, before.counted, today)
    now = streak(terms, after.counted, today)
    if now <= was or not is_milestone(now):
        return []
    period = period_start(today, terms.measure.cadence, terms.start_date)
    goal = after.summary
    return _to_everyone(
        "celebration",
        goal,
        clinic_id,
        occurrence=f"streak-{now}-{period.isoformat()}",
        text=messages.streak(terms.statement, now, terms.measure.cadence),
        recipients=(goal.client_id, *goal.supporters),
        at=at,
        keeps=CELEBRATION_KEEPS,
    )


def event_nudges(
    before: FoldedGoal,
    after: FoldedGoal,
    event: GoalEvent,
    recorded_at: datetime,
    care: CareTeam,
) -> list[Nudge]:
    """The nudges that `event`, taking the goal from `before` to `after`, calls for."""
    goal = after.summary
    statement = goal.terms.statement
    match event:
        case GoalAchieved():
            return _to_everyone(
                "celebration",
                goal,
                care.clinic_id,
                occurrence="achieved",
                text=messages.achieved(statement),
                recipients=(goal.client_id, *care.therapists, *goal.supporters),
                at=recorded_at,
                keeps=CELEBRATION_KEEPS,
            )
        case GoalMissed():
            return _to_everyone(
                "after_miss",
                goal,
                care.clinic_id,
                occurrence="missed",
                text=messages.after_miss(statement),
                recipients=(goal.client_id,),
                at=recorded_at,
                keeps=AFTER_MISS_KEEPS,
            )
        case ProgressRecorded() if goal.status == "active":
            return _streak_reached(before, after, recorded_at, care.clinic_id)
    return []
