"""A goal's decision state and how each event changes it.

The state holds only what decisions need; screens read projections. Its size does not grow with
the goal's history: a check-in's id is unique in its goal by the log's own index (migration
0008), not by a set of every id held here, and a correction of a check-in is decided on what the
log holds of that check-in (`CheckInOnRecord` on the command). So folding a check-in costs the
same on a goal's tenth event as on its ten-thousandth, and a process that keeps many goals folded
keeps a few hundred bytes of each.
"""

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
    TermsChange,
)
from domain.goals.fold_errors import EventOutOfOrder, IncompleteEvent
from domain.goals.terms import GoalStatus, GoalTerms


class NoGoal(msgspec.Struct, frozen=True, gc=False, tag="no_goal"):
    """The state of a stream before its goal is set."""


class Goal(msgspec.Struct, frozen=True, gc=False, tag="goal"):
    goal_id: UUID
    client_id: UUID
    terms: GoalTerms
    status: GoalStatus
    replaces: UUID | None
    check_ins_recorded: int = 0
    """Every check-in ever recorded, those later entered in error too: once there is one, the
    goal's measure is what they were counted in."""
    supporters: frozenset[UUID] = frozenset()


GoalState = NoGoal | Goal


def apply_change(terms: GoalTerms, change: TermsChange) -> GoalTerms:
    """The terms with every field that `change` carries replaced."""
    present = {
        field: value
        for field in change.__struct_fields__
        if (value := getattr(change, field)) is not msgspec.UNSET
    }
    return msgspec.structs.replace(terms, **present)


FOLD_VERSION = 1
"""Which fold made a stored state (infra/goals/snapshots.py): raised whenever `evolve` or the
goal's detail (domain/goals/view.py) folds any event otherwise, so that every snapshot folded
the old way is set aside and the goal folded again from its events."""


def _corrected(goal: Goal, event: CorrectionRecorded) -> Goal:
    if event.scope == "goal":
        return msgspec.structs.replace(goal, status="entered_in_error")
    if event.check_in_id is None:
        raise IncompleteEvent("a check-in correction names no check-in")
    return goal


def _evolve_goal(goal: Goal, event: GoalEvent) -> Goal:
    replace = msgspec.structs.replace
    match event:
        case GoalAdjusted(after=after):
            return replace(goal, terms=apply_change(goal.terms, after))
        case ProgressRecorded():
            return replace(goal, check_ins_recorded=goal.check_ins_recorded + 1)
        case GoalAchieved():
            return replace(goal, status="achieved")
        case GoalMissed():
            return replace(goal, status="missed")
        case GoalPaused():
            return replace(goal, status="paused")
        case GoalResumed():
            return replace(goal, status="active")
        case GoalCancelled():
            return replace(goal, status="cancelled")
        case CorrectionRecorded():
            return _corrected(goal, event)
        case SupporterAdded(supporter_id=supporter_id):
            return replace(goal, supporters=goal.supporters | {supporter_id})
        case SupporterRemoved(supporter_id=supporter_id):
            return replace(goal, supporters=goal.supporters - {supporter_id})
        case GoalRated():
            return goal
        case GoalSet():
            raise EventOutOfOrder("GoalSet cannot apply to Goal: a goal is set once")
    assert_never(event)


def evolve(state: GoalState, event: GoalEvent) -> GoalState:
    """The state after `event`. Events are facts: this never refuses one that was decided."""
    match state:
        case NoGoal():
            if not isinstance(event, GoalSet):
                raise EventOutOfOrder(f"{type(event).__name__} cannot apply to NoGoal")
            return Goal(
                goal_id=event.goal_id,
                client_id=event.client_id,
                terms=event.terms,
                status="active",
                replaces=event.replaces,
            )
        case Goal():
            return _evolve_goal(state, event)
    assert_never(state)


def fold(events: list[GoalEvent], state: GoalState | None = None) -> GoalState:
    current: GoalState = NoGoal() if state is None else state
    for event in events:
        current = evolve(current, event)
    return current
