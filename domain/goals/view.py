"""A goal as people read it, folded from its events: terms, status, check-ins, sharing.

Like the goal's state, the detail does not grow with the goal's history: it keeps the latest
check-ins a screen shows and running totals of all of them. The one event it cannot always fold
from what it holds is a correction of a check-in (its amount and moment may lie further back):
the totals are then marked unknown until they are counted again from the events, here when all
of them are at hand (`goal_detail`), else by the log (infra/goals/check_ins.py).
"""

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


RECENT_CHECK_INS = 10
"""How many of the latest check-ins a goal's detail keeps (and a screen shows)."""


class CheckInTotals(msgspec.Struct, frozen=True, gc=False):
    """Of the check-ins not entered in error: the progress they add up to, how many they are,
    and the latest moment among them (the first recorded of equal ones)."""

    progress_total: float = 0.0
    check_in_count: int = 0
    last_check_in_at: datetime | None = None


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
    """The latest `RECENT_CHECK_INS` check-ins recorded, oldest first."""
    supporters: tuple[UUID, ...] = ()
    attainment_rating: int | None = None
    # Kept as the check-ins come, so that reading them costs the same at any length of history.
    progress_total: float = 0.0
    """All the progress recorded, less check-ins entered in error."""
    check_in_count: int = 0
    """Check-ins not entered in error."""
    last_check_in_at: datetime | None = None
    """The latest moment of a check-in not entered in error."""
    totals_known: bool = True
    """False after a correction of a check-in: the three totals above are stale until counted
    again (`with_totals`)."""


def with_totals(detail: GoalDetail, totals: CheckInTotals) -> GoalDetail:
    return msgspec.structs.replace(
        detail,
        progress_total=totals.progress_total,
        check_in_count=totals.check_in_count,
        last_check_in_at=totals.last_check_in_at,
        totals_known=True,
    )


def check_in_totals(events: list[GoalEvent]) -> CheckInTotals:
    """The totals of a goal's check-ins, from all of its events: the work grows with them."""
    recorded: dict[UUID, ProgressRecorded] = {}
    for event in events:
        if isinstance(event, ProgressRecorded):
            recorded[event.check_in_id] = event
        elif isinstance(event, CorrectionRecorded) and event.check_in_id is not None:
            recorded.pop(event.check_in_id, None)
    counted = list(recorded.values())
    return CheckInTotals(
        progress_total=sum(item.amount for item in counted),
        check_in_count=len(counted),
        last_check_in_at=max((item.occurred_at for item in counted), default=None),
    )


def _corrected(detail: GoalDetail, event: CorrectionRecorded) -> GoalDetail:
    replace = msgspec.structs.replace
    if event.scope == "goal":
        return replace(detail, status="entered_in_error", status_reason=event.reason)
    check_ins = tuple(
        replace(item, entered_in_error=True) if item.check_in_id == event.check_in_id else item
        for item in detail.check_ins
    )
    # Summing what is left (as the totals are defined) needs every check-in, which this does
    # not keep; subtracting the one corrected would round otherwise, and may lose the latest.
    return replace(detail, check_ins=check_ins, totals_known=False)


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
                check_ins=(*detail.check_ins[1 - RECENT_CHECK_INS :], check_in),
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
    """The goal that all of its events describe, or None for a stream with no goal."""
    if not events:
        return None
    first = events[0]
    if not isinstance(first, GoalSet):
        raise EventOutOfOrder(f"a goal's first event is goal_set, not {type(first).__name__}")
    detail = GoalDetail(first.goal_id, first.client_id, first.terms, "active", first.replaces)
    detail = advance(detail, events[1:])
    return detail if detail.totals_known else with_totals(detail, check_in_totals(events))


def advance(detail: GoalDetail, events: list[GoalEvent]) -> GoalDetail:
    """The detail after `events`, which follow what it folded; its totals may be left unknown
    (`GoalDetail.totals_known`)."""
    for event in events:
        detail = _next(detail, event)
    return detail
