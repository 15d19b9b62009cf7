"""A goal as people read it, folded from its events: terms, status, check-ins, sharing."""

from datetime import datetime
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
from domain.goals.state import apply_change
from domain.goals.terms import GoalStatus, GoalTerms, MissCause


class CheckIn(msgspec.Struct, frozen=True):
    check_in_id: UUID
    amount: float
    occurred_at: datetime
    note: str | None
    entered_in_error: bool = False


class Reflection(msgspec.Struct, frozen=True):
    cause: MissCause
    words: str


class GoalDetail(msgspec.Struct, frozen=True):
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


def _corrected(detail: GoalDetail, event: CorrectionRecorded) -> GoalDetail:
    replace = msgspec.structs.replace
    if event.scope == "goal":
        return replace(detail, status="entered_in_error", status_reason=event.reason)
    check_ins = tuple(
        replace(item, entered_in_error=True) if item.check_in_id == event.check_in_id else item
        for item in detail.check_ins
    )
    return replace(detail, check_ins=check_ins)


def _next(detail: GoalDetail, event: GoalEvent) -> GoalDetail:
    replace = msgspec.structs.replace
    match event:
        case GoalAdjusted(after=after):
            return replace(detail, terms=apply_change(detail.terms, after))
        case ProgressRecorded():
            check_in = CheckIn(event.check_in_id, event.amount, event.occurred_at, event.note)
            return replace(detail, check_ins=(*detail.check_ins, check_in))
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
    raise ValueError(f"{type(event).__name__} cannot follow a goal that is already set")


def goal_detail(events: list[GoalEvent]) -> GoalDetail | None:
    """The goal the events describe, or None for a stream with no goal."""
    if not events:
        return None
    first = events[0]
    if not isinstance(first, GoalSet):
        raise TypeError("a goal's stream starts with GoalSet")
    detail = GoalDetail(first.goal_id, first.client_id, first.terms, "active", first.replaces)
    return advance(detail, events[1:])


def advance(detail: GoalDetail, events: list[GoalEvent]) -> GoalDetail:
    for event in events:
        detail = _next(detail, event)
    return detail


def progress_total(detail: GoalDetail) -> float:
    """All the progress recorded, less check-ins entered in error."""
    return sum(item.amount for item in detail.check_ins if not item.entered_in_error)
