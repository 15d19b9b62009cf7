"""A goal as people read it, folded from its events: terms, status, check-ins, sharing."""

from datetime import datetime
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
from domain.goals.fold_errors import EventOutOfOrder
from domain.goals.state import apply_change
from domain.goals.terms import GoalStatus, GoalTerms, MissCause


class CheckIn(msgspec.Struct, frozen=True, gc=False):
    check_in_id: UUID
    amount: float
    occurred_at: datetime
    note: str | None
    entered_in_error: bool = False


class Reflection(msgspec.Struct, frozen=True, gc=False):
    cause: MissCause
    words: str


class GoalDetail(msgspec.Struct, frozen=True, gc=False):
    goal_id: UUID
    client_id: UUID
    terms: GoalTerms
    status: GoalStatus
    replaces: UUID | None
    status_reason: str | None = None
    reflection: Reflection | None = None
    achievement_note: str | None = None
    check_ins: tuple[CheckIn, ...] = ()
    supporters: tuple[UUID, ...] = ()
    attainment_rating: int | None = None
    # Kept as the check-ins come, so that reading them costs the same at any length of history.
    progress_total: float = 0.0
    """All the progress recorded, less check-ins entered in error."""
    check_in_count: int = 0
    """Check-ins not entered in error."""
    last_check_in_at: datetime | None = None
    """The latest moment of a check-in not entered in error."""


def _corrected(detail: GoalDetail, event: CorrectionRecorded) -> GoalDetail:
    replace = msgspec.structs.replace
    if event.scope == "goal":
        return replace(detail, status="entered_in_error", status_reason=event.reason)
    check_ins = tuple(
        replace(item, entered_in_error=True) if item.check_in_id == event.check_in_id else item
        for item in detail.check_ins
    )
    counted = [item for item in check_ins if not item.entered_in_error]
    return replace(
        detail,
        check_ins=check_ins,
        progress_total=sum(item.amount for item in counted),
        check_in_count=len(counted),
        last_check_in_at=max((item.occurred_at for item in counted), default=None),
    )


def _next(detail: GoalDetail, event: GoalEvent) -> GoalDetail:
    replace = msgspec.structs.replace
    match event:
        case GoalAdjusted(after=after):
            return replace(detail, terms=apply_change(detail.terms, after))
        case ProgressRecorded():
            check_in = CheckIn(event.check_in_id, event.amount, event.occurred_at, event.note)
            latest = detail.last_check_in_at
            return replace(
                detail,
                check_ins=(*detail.check_ins, check_in),
                progress_total=detail.progress_total + event.amount,
                check_in_count=detail.check_in_count + 1,
                last_check_in_at=event.occurred_at
                if latest is None
                else max(latest, event.occurred_at),
            )
        case GoalAchieved(note=note):
            return replace(detail, status="achieved", achievement_note=note)
        case GoalMissed(cause=cause, reflection=words):
            return replace(detail, status="missed", reflection=Reflection(cause, words))
        case GoalPaused(reason=reason):
            return replace(detail, status="paused", status_reason=reason)
        case GoalResumed():
            return replace(detail, status="active", status_reason=None)
        case GoalCancelled(reason=reason):
            return replace(detail, status="cancelled", status_reason=reason)
        case CorrectionRecorded():
            return _corrected(detail, event)
        case SupporterAdded(supporter_id=supporter):
            return replace(detail, supporters=(*detail.supporters, supporter))
        case GoalRated(rating=rating):
            return replace(detail, attainment_rating=rating)
        case SupporterRemoved(supporter_id=supporter):
            kept = tuple(item for item in detail.supporters if item != supporter)
            return replace(detail, supporters=kept)
        case GoalSet():
            raise EventOutOfOrder("GoalSet cannot follow a goal that is already set")
    assert_never(event)


def goal_detail(events: list[GoalEvent]) -> GoalDetail | None:
    """The goal the events describe, or None for a stream with no goal."""
    if not events:
        return None
    first = events[0]
    if not isinstance(first, GoalSet):
        raise EventOutOfOrder(f"a goal's first event is goal_set, not {type(first).__name__}")
    detail = GoalDetail(first.goal_id, first.client_id, first.terms, "active", first.replaces)
    return advance(detail, events[1:])


def advance(detail: GoalDetail, events: list[GoalEvent]) -> GoalDetail:
    for event in events:
        detail = _next(detail, event)
    return detail
