"""decide(command, state) -> events: every goal rule in one place, pure."""

from collections.abc import Callable
from typing import Any

import msgspec

from domain.goals import rules
from domain.goals.attainment import RATINGS
from domain.goals.commands import (
    AddSupporter,
    AdjustGoal,
    CancelGoal,
    GoalCommand,
    MarkAchieved,
    PauseGoal,
    RateGoal,
    RecordCorrection,
    RecordMiss,
    RecordProgress,
    RemoveSupporter,
    ResumeGoal,
    SetGoal,
)
from domain.goals.errors import GoalRuleViolation
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
from domain.goals.state import Goal, GoalState, NoGoal, apply_change
from domain.goals.terms import GoalStatus

_STATUS_WORDS: dict[GoalStatus, str] = {
    "active": "active",
    "paused": "paused",
    "achieved": "already achieved",
    "missed": "closed as missed",
    "cancelled": "cancelled",
    "entered_in_error": "marked as entered in error",
}


def _require_status(goal: Goal, allowed: frozenset[GoalStatus], action: str) -> None:
    if goal.status not in allowed:
        raise GoalRuleViolation(
            "goal_status_conflict",
            f"This goal is {_STATUS_WORDS[goal.status]}, so it cannot be {action}.",
        )


_OPEN: frozenset[GoalStatus] = frozenset({"active", "paused"})
_ACTIVE: frozenset[GoalStatus] = frozenset({"active"})
OPEN_STATUSES = _OPEN
"""A goal in one of these may still be adjusted, or closed as achieved, missed or cancelled."""
_NOT_IN_ERROR: frozenset[GoalStatus] = frozenset(_STATUS_WORDS) - {"entered_in_error"}


def _set(command: SetGoal, state: GoalState) -> list[GoalEvent]:
    if not isinstance(state, NoGoal):
        raise GoalRuleViolation("goal_exists", "A goal with this id has already been set.")
    if command.replaces == command.goal_id:
        raise GoalRuleViolation("replaces_itself", "A goal cannot replace itself.", "replaces")
    rules.check_new_terms(command.terms, command.now, command.clinic_opened)
    return [GoalSet(command.goal_id, command.client_id, command.terms, command.replaces)]


def _adjust(command: AdjustGoal, goal: Goal) -> list[GoalEvent]:
    _require_status(goal, _OPEN, "adjusted")
    rules.check_text(command.reason, "reason")
    touched = [
        field
        for field in TermsChange.__struct_fields__
        if getattr(command.changes, field) is not msgspec.UNSET
        and getattr(command.changes, field) != getattr(goal.terms, field)
    ]
    if not touched:
        raise GoalRuleViolation(
            "nothing_to_adjust", "These changes match the goal as it is.", "changes"
        )
    after = TermsChange(**{field: getattr(command.changes, field) for field in touched})
    before = TermsChange(**{field: getattr(goal.terms, field) for field in touched})
    new_terms = apply_change(goal.terms, after)
    if new_terms.measure.kind != goal.terms.measure.kind and goal.check_ins_recorded:
        raise GoalRuleViolation(
            "measure_kind_locked",
            "Check-ins were recorded in this measure; set a new goal to measure another way.",
            "changes.measure.kind",
        )
    rules.check_terms(new_terms, command.now, prefix="changes")
    return [GoalAdjusted(goal.goal_id, before, after, command.reason)]


def check_in_exists() -> GoalRuleViolation:
    """A check-in whose id the goal holds already.

    The log refuses it (its index on check-in ids, migration 0008), and the writer says so before
    any rule of `decide` (infra/goals/writer.py): it is most often a client's retry of a request
    whose answer it never got, answered with the first result whatever has happened to the goal
    since (services/api/goals/check_ins.py)."""
    return GoalRuleViolation("check_in_exists", "This check-in has already been recorded.")


def already_corrected() -> GoalRuleViolation:
    """A check-in already entered in error: also what the log's index says of a second
    correction of it that raced the first."""
    return GoalRuleViolation(
        "already_corrected",
        "This check-in is already marked as entered in error.",
        "check_in_id",
    )


def _record_progress(command: RecordProgress, goal: Goal) -> list[GoalEvent]:
    _require_status(goal, _ACTIVE, "checked in on")
    rules.check_amount(goal.terms.measure, command.amount)
    rules.check_occurred_at(
        command.occurred_at, command.now, goal.terms.start_date, goal.terms.time_zone
    )
    if command.note is not None:
        rules.check_text(command.note, "note", required=False)
    return [
        ProgressRecorded(
            goal.goal_id, command.check_in_id, command.amount, command.occurred_at, command.note
        )
    ]


def _achieve(command: MarkAchieved, goal: Goal) -> list[GoalEvent]:
    _require_status(goal, _OPEN, "marked achieved")
    if command.note is not None:
        rules.check_text(command.note, "note", required=False)
    return [GoalAchieved(goal.goal_id, command.note)]


def _miss(command: RecordMiss, goal: Goal) -> list[GoalEvent]:
    _require_status(goal, _OPEN, "closed as missed")
    rules.check_text(command.reflection, "reflection", required=False)
    return [GoalMissed(goal.goal_id, command.cause, command.reflection)]


def _pause(command: PauseGoal, goal: Goal) -> list[GoalEvent]:
    _require_status(goal, _ACTIVE, "paused")
    rules.check_text(command.reason, "reason")
    return [GoalPaused(goal.goal_id, command.reason)]


def _resume(command: ResumeGoal, goal: Goal) -> list[GoalEvent]:
    _require_status(goal, frozenset({"paused"}), "resumed")
    return [GoalResumed(goal.goal_id)]


def _cancel(command: CancelGoal, goal: Goal) -> list[GoalEvent]:
    _require_status(goal, _OPEN, "cancelled")
    rules.check_text(command.reason, "reason")
    return [GoalCancelled(goal.goal_id, command.reason)]


def _correct(command: RecordCorrection, goal: Goal) -> list[GoalEvent]:
    # Marking something as entered in error is final: a correction cannot itself be corrected.
    _require_status(goal, _NOT_IN_ERROR, "corrected")
    rules.check_text(command.reason, "reason")
    if command.scope == "goal":
        if command.check_in_id is not None:
            raise GoalRuleViolation(
                "check_in_not_expected",
                "A correction of the whole goal names no check-in.",
                "check_in_id",
            )
        return [CorrectionRecorded(goal.goal_id, "goal", command.reason)]
    check_in_id = command.check_in_id
    if check_in_id is None or not command.on_record.recorded:
        raise GoalRuleViolation(
            "check_in_not_found", "This goal has no such check-in.", "check_in_id"
        )
    if command.on_record.corrected:
        raise already_corrected()
    return [CorrectionRecorded(goal.goal_id, "check_in", command.reason, check_in_id)]


def _add_supporter(command: AddSupporter, goal: Goal) -> list[GoalEvent]:
    _require_status(goal, _NOT_IN_ERROR, "shared")
    if command.supporter_id == goal.client_id:
        raise GoalRuleViolation(
            "supporter_is_client", "A client cannot be their own supporter.", "supporter_id"
        )
    if command.supporter_id in goal.supporters:
        raise GoalRuleViolation(
            "supporter_exists", "This person already follows the goal.", "supporter_id"
        )
    return [SupporterAdded(goal.goal_id, command.supporter_id)]


def _remove_supporter(command: RemoveSupporter, goal: Goal) -> list[GoalEvent]:
    _require_status(goal, _NOT_IN_ERROR, "changed")
    if command.supporter_id not in goal.supporters:
        raise GoalRuleViolation(
            "supporter_not_found", "This person does not follow the goal.", "supporter_id"
        )
    return [SupporterRemoved(goal.goal_id, command.supporter_id)]


def _rate(command: RateGoal, goal: Goal) -> list[GoalEvent]:
    _require_status(goal, _NOT_IN_ERROR, "rated")
    if command.actor.role != "therapist":
        raise GoalRuleViolation(
            "rating_by_therapist_only", "Goal attainment is rated by the therapist."
        )
    if isinstance(command.rating, bool) or command.rating not in RATINGS:
        raise GoalRuleViolation(
            "rating_out_of_range", "A rating is a whole number from -2 to +2.", "rating"
        )
    if command.note is not None:
        rules.check_text(command.note, "note", required=False)
    return [GoalRated(goal.goal_id, command.rating, command.note)]


_ON_GOAL: dict[type[Any], Callable[[Any, Goal], list[GoalEvent]]] = {
    AdjustGoal: _adjust,
    RecordProgress: _record_progress,
    MarkAchieved: _achieve,
    RecordMiss: _miss,
    PauseGoal: _pause,
    ResumeGoal: _resume,
    CancelGoal: _cancel,
    RecordCorrection: _correct,
    AddSupporter: _add_supporter,
    RemoveSupporter: _remove_supporter,
    RateGoal: _rate,
}


def decide(command: GoalCommand, state: GoalState) -> list[GoalEvent]:
    """The events that `command` causes, or `GoalRuleViolation` if a rule forbids it."""
    if isinstance(command, SetGoal):
        return _set(command, state)
    if isinstance(state, NoGoal):
        raise GoalRuleViolation("goal_not_found", "There is no goal with this id.")
    return _ON_GOAL[type(command)](command, state)


def check_replacement(replaced: GoalState, command: SetGoal) -> None:
    """A goal may replace an ended or paused goal of the same client: a fresh attempt.

    A goal entered in error never existed for this purpose, so it cannot be replaced.
    """
    if (
        not isinstance(replaced, Goal)
        or replaced.client_id != command.client_id
        or replaced.status == "entered_in_error"
    ):
        raise GoalRuleViolation(
            "replaced_goal_not_found", "There is no such goal to replace.", "replaces"
        )
    if replaced.status == "active":
        raise GoalRuleViolation(
            "replaced_goal_open",
            "Finish, pause or cancel the current goal before replacing it.",
            "replaces",
        )
