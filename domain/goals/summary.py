"""The goal summary read model: what a goal list shows, folded event by event.

Anything that depends on the current time (this period's progress, streaks, days to due) is
worked out when it is read, from these facts and the check-ins, not stored here.
"""

from datetime import date, datetime
from typing import assert_never
from uuid import UUID

import msgspec

from domain.goals.events import (
    CorrectionRecorded,
    GoalAchieved,
    GoalAdjusted,
    GoalCancelled,
    GoalEvent,
    GoalMissed,
    GoalPaused,
    GoalRated,
    GoalResumed,
    GoalSet,
    ProgressRecorded,
    SupporterAdded,
    SupporterRemoved,
)
from domain.goals.fold_errors import EventOutOfOrder, VersionGap
from domain.goals.state import apply_change
from domain.goals.terms import GoalStatus, GoalTerms


class EventFacts(msgspec.Struct, frozen=True, gc=False):
    """What the log knows about an event besides its body."""

    version: int
    position: int
    recorded_at: datetime
    clinic_id: UUID | None


class GoalSummary(msgspec.Struct, frozen=True, gc=False):
    goal_id: UUID
    clinic_id: UUID | None
    client_id: UUID
    terms: GoalTerms
    status: GoalStatus
    set_at: datetime
    version: int
    last_position: int
    ended_at: datetime | None = None
    last_check_in_at: datetime | None = None
    attainment_rating: int | None = None
    supporters: tuple[UUID, ...] = ()


class CheckInChange(msgspec.Struct, frozen=True, gc=False):
    """A check-in recorded, or one marked as entered in error."""

    check_in_id: UUID
    goal_id: UUID
    amount: float
    occurred_at: datetime | None
    entered_in_error: bool = False


_ENDING: dict[type, GoalStatus] = {
    GoalAchieved: "achieved",
    GoalMissed: "missed",
    GoalCancelled: "cancelled",
}


def summarize(summary: GoalSummary | None, event: GoalEvent, facts: EventFacts) -> GoalSummary:
    """The summary after `event`; `summary` is None before the goal's first event."""
    if summary is None:
        if not isinstance(event, GoalSet):
            raise EventOutOfOrder(f"a goal's first event is goal_set, not {type(event).__name__}")
        return GoalSummary(
            event.goal_id,
            facts.clinic_id,
            event.client_id,
            event.terms,
            "active",
            facts.recorded_at,
            facts.version,
            facts.position,
        )
    if facts.version != summary.version + 1:
        raise VersionGap(f"version {facts.version} does not follow {summary.version}")
    moved = msgspec.structs.replace(summary, version=facts.version, last_position=facts.position)
    return _changed(moved, event, facts.recorded_at)


def _changed(summary: GoalSummary, event: GoalEvent, at: datetime) -> GoalSummary:
    replace = msgspec.structs.replace
    match event:
        case GoalAdjusted(after=after):
            return replace(summary, terms=apply_change(summary.terms, after))
        case ProgressRecorded(occurred_at=occurred_at):
            latest = max(filter(None, (summary.last_check_in_at, occurred_at)))
            return replace(summary, last_check_in_at=latest)
        case GoalAchieved() | GoalMissed() | GoalCancelled():
            return replace(summary, status=_ENDING[type(event)], ended_at=at)
        case GoalPaused():
            return replace(summary, status="paused")
        case GoalResumed():
            return replace(summary, status="active")
        case CorrectionRecorded(scope="goal"):
            return replace(summary, status="entered_in_error", ended_at=at)
        case GoalRated(rating=rating):
            return replace(summary, attainment_rating=rating)
        case SupporterAdded(supporter_id=supporter):
            return replace(summary, supporters=(*summary.supporters, supporter))
        case SupporterRemoved(supporter_id=supporter):
            kept = tuple(item for item in summary.supporters if item != supporter)
            return replace(summary, supporters=kept)
        case CorrectionRecorded():
            return summary
        case GoalSet():
            raise EventOutOfOrder("a goal is set once")
    assert_never(event)


def check_in_change(event: GoalEvent) -> CheckInChange | None:
    match event:
        case ProgressRecorded():
            return CheckInChange(event.check_in_id, event.goal_id, event.amount, event.occurred_at)
        case CorrectionRecorded(scope="check_in", check_in_id=UUID() as check_in_id):
            return CheckInChange(check_in_id, event.goal_id, 0, None, entered_in_error=True)
        case (
            CorrectionRecorded()
            | GoalSet()
            | GoalAdjusted()
            | GoalAchieved()
            | GoalMissed()
            | GoalPaused()
            | GoalResumed()
            | GoalCancelled()
            | SupporterAdded()
            | SupporterRemoved()
            | GoalRated()
        ):
            return None
    assert_never(event)


def days_to_due(summary: GoalSummary, today: date) -> int:
    return (summary.terms.due_date - today).days
