"""Given-events / when-command / then-events helpers and factories for valid goal inputs.

Every factory uses the fixed `NOW`, so no test depends on the real clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import pytest

from domain.goals.commands import (
    Actor,
    AddSupporter,
    AdjustGoal,
    CancelGoal,
    CheckInOnRecord,
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
from domain.goals.decider import decide
from domain.goals.errors import GoalRuleViolation
from domain.goals.events import (
    CorrectionRecorded,
    GoalAchieved,
    GoalCancelled,
    GoalEvent,
    GoalMissed,
    GoalPaused,
    GoalRated,
    GoalResumed,
    GoalSet,
    ProgressRecorded,
    SupporterAdded,
    TermsChange,
)
from domain.goals.state import GoalState, fold
from domain.goals.terms import GoalTerms, Measure, MissCause

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
# The clinic came to the service the day NOW falls on: a goal may start a year back from it.
CLINIC_OPENED = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)
ZONE = "Europe/Berlin"
START = date(2025, 3, 3)
DUE = date(2025, 6, 30)

GOAL_ID = UUID("00000000-0000-4000-8000-000000000001")
OTHER_GOAL_ID = UUID("00000000-0000-4000-8000-000000000002")
CLIENT_ID = UUID("00000000-0000-4000-8000-0000000000c1")
OTHER_CLIENT_ID = UUID("00000000-0000-4000-8000-0000000000c2")
THERAPIST_ID = UUID("00000000-0000-4000-8000-0000000000a1")
SUPPORTER_ID = UUID("00000000-0000-4000-8000-0000000000b1")
OTHER_SUPPORTER_ID = UUID("00000000-0000-4000-8000-0000000000b2")
CHECK_IN_ID = UUID("00000000-0000-4000-8000-0000000000d1")
OTHER_CHECK_IN_ID = UUID("00000000-0000-4000-8000-0000000000d2")

THERAPIST = Actor(THERAPIST_ID, "therapist")
CLIENT = Actor(CLIENT_ID, "client")

# Well inside the goal's span and a day before NOW, so no date or clock rule is near.
CHECK_IN_AT = NOW - timedelta(days=1)


# --- terms -----------------------------------------------------------------------------------


def measure(**overrides: Any) -> Measure:
    fields: dict[str, Any] = {
        "kind": "count",
        "target": 3.0,
        "unit": "walks",
        "cadence": "per_week",
    }
    return Measure(**(fields | overrides))


def terms(**overrides: Any) -> GoalTerms:
    fields: dict[str, Any] = {
        "statement": "Walk for 30 minutes three times a week",
        "life_area": "physical_health",
        "values": ("health", "energy"),
        "measure": measure(),
        "cue": "After breakfast",
        "start_date": START,
        "due_date": DUE,
        "priority": "high",
        "time_zone": ZONE,
    }
    return GoalTerms(**(fields | overrides))


# --- commands --------------------------------------------------------------------------------


def set_goal(**overrides: Any) -> SetGoal:
    fields: dict[str, Any] = {
        "goal_id": GOAL_ID,
        "client_id": CLIENT_ID,
        "terms": terms(),
        "actor": THERAPIST,
        "now": NOW,
        "clinic_opened": CLINIC_OPENED,
        "replaces": None,
    }
    return SetGoal(**(fields | overrides))


def adjust_goal(
    changes: TermsChange, reason: str = "Agreed in session", now: datetime = NOW
) -> AdjustGoal:
    return AdjustGoal(GOAL_ID, changes, reason, THERAPIST, now)


def record_progress(**overrides: Any) -> RecordProgress:
    fields: dict[str, Any] = {
        "goal_id": GOAL_ID,
        "check_in_id": CHECK_IN_ID,
        "amount": 1.0,
        "occurred_at": CHECK_IN_AT,
        "actor": CLIENT,
        "now": NOW,
        "note": None,
    }
    return RecordProgress(**(fields | overrides))


def mark_achieved(note: str | None = None) -> MarkAchieved:
    return MarkAchieved(GOAL_ID, THERAPIST, NOW, note)


def record_miss(
    cause: MissCause = "obstacles", reflection: str = "Work got in the way"
) -> RecordMiss:
    return RecordMiss(GOAL_ID, cause, reflection, THERAPIST, NOW)


def pause_goal(reason: str = "Recovering from surgery") -> PauseGoal:
    return PauseGoal(GOAL_ID, reason, THERAPIST, NOW)


def resume_goal() -> ResumeGoal:
    return ResumeGoal(GOAL_ID, THERAPIST, NOW)


def cancel_goal(reason: str = "No longer relevant") -> CancelGoal:
    return CancelGoal(GOAL_ID, reason, THERAPIST, NOW)


def correct_goal(
    reason: str = "Set up for the wrong client", check_in_id: UUID | None = None
) -> RecordCorrection:
    return RecordCorrection(GOAL_ID, "goal", reason, THERAPIST, NOW, check_in_id)


def correct_check_in(
    check_in_id: UUID | None = CHECK_IN_ID, reason: str = "Typed the wrong number"
) -> RecordCorrection:
    return RecordCorrection(GOAL_ID, "check_in", reason, THERAPIST, NOW, check_in_id)


def add_supporter(supporter_id: UUID = SUPPORTER_ID) -> AddSupporter:
    return AddSupporter(GOAL_ID, supporter_id, CLIENT, NOW)


def remove_supporter(supporter_id: UUID = SUPPORTER_ID) -> RemoveSupporter:
    return RemoveSupporter(GOAL_ID, supporter_id, CLIENT, NOW)


def rate_goal(rating: int = 1, actor: Actor = THERAPIST, note: str | None = None) -> RateGoal:
    return RateGoal(GOAL_ID, rating, actor, NOW, note)


# --- events ----------------------------------------------------------------------------------


def goal_set(**overrides: Any) -> GoalSet:
    fields: dict[str, Any] = {
        "goal_id": GOAL_ID,
        "client_id": CLIENT_ID,
        "terms": terms(),
        "replaces": None,
    }
    return GoalSet(**(fields | overrides))


def progress_recorded(
    check_in_id: UUID = CHECK_IN_ID, amount: float = 1.0, occurred_at: datetime = CHECK_IN_AT
) -> ProgressRecorded:
    return ProgressRecorded(GOAL_ID, check_in_id, amount, occurred_at)


def goal_achieved() -> GoalAchieved:
    return GoalAchieved(GOAL_ID)


def goal_missed() -> GoalMissed:
    return GoalMissed(GOAL_ID, "obstacles", "Work got in the way")


def goal_paused() -> GoalPaused:
    return GoalPaused(GOAL_ID, "Recovering from surgery")


def goal_resumed() -> GoalResumed:
    return GoalResumed(GOAL_ID)


def goal_cancelled() -> GoalCancelled:
    return GoalCancelled(GOAL_ID, "No longer relevant")


def goal_corrected() -> CorrectionRecorded:
    return CorrectionRecorded(GOAL_ID, "goal", "Set up for the wrong client")


def check_in_corrected(check_in_id: UUID = CHECK_IN_ID) -> CorrectionRecorded:
    return CorrectionRecorded(GOAL_ID, "check_in", "Typed the wrong number", check_in_id)


def supporter_added(supporter_id: UUID = SUPPORTER_ID) -> SupporterAdded:
    return SupporterAdded(GOAL_ID, supporter_id)


def goal_rated(rating: int = 1, note: str | None = None) -> GoalRated:
    return GoalRated(GOAL_ID, rating, note)


# The shortest history that leaves the goal in each status.
HISTORY_BY_STATUS: dict[str, tuple[GoalEvent, ...]] = {
    "active": (goal_set(),),
    "paused": (goal_set(), goal_paused()),
    "achieved": (goal_set(), goal_achieved()),
    "missed": (goal_set(), goal_missed()),
    "cancelled": (goal_set(), goal_cancelled()),
    "entered_in_error": (goal_set(), goal_corrected()),
}


# --- given / when / then ---------------------------------------------------------------------


def on_record(history: Sequence[GoalEvent], check_in_id: UUID) -> CheckInOnRecord:
    """What a goal's events say of one of its check-ins."""
    return CheckInOnRecord(
        recorded=any(
            isinstance(event, ProgressRecorded) and event.check_in_id == check_in_id
            for event in history
        ),
        corrected=any(
            isinstance(event, CorrectionRecorded) and event.check_in_id == check_in_id
            for event in history
        ),
    )


def given(*events: GoalEvent) -> Scenario:
    return Scenario(tuple(events))


@dataclass(frozen=True)
class Scenario:
    history: tuple[GoalEvent, ...]

    @property
    def state(self) -> GoalState:
        return fold(list(self.history))

    def when(self, command: GoalCommand) -> Outcome:
        """`command` decided on the history, given what the log would hold of the check-in it
        corrects, as the writer reads it (infra/goals/check_ins.py)."""
        if isinstance(command, RecordCorrection) and command.check_in_id is not None:
            found = on_record(self.history, command.check_in_id)
            command = msgspec.structs.replace(command, on_record=found)
        try:
            emitted = decide(command, self.state)
        except GoalRuleViolation as violation:
            return Outcome(self.history, None, violation)
        return Outcome(self.history, tuple(emitted), None)


@dataclass(frozen=True)
class Outcome:
    history: tuple[GoalEvent, ...]
    emitted: tuple[GoalEvent, ...] | None
    violation: GoalRuleViolation | None

    def then(self, *expected: GoalEvent) -> GoalState:
        """Asserts exactly `expected` was emitted; returns the state folded over everything."""
        if self.violation is not None:
            pytest.fail(
                f"expected {expected!r}, but the command was refused with "
                f"{self.violation.code!r} on {self.violation.field!r}: {self.violation.message}"
            )
        assert self.emitted == expected
        return fold([*self.history, *self.emitted])

    def then_rejected(self, code: str, field: str | None = None) -> GoalRuleViolation:
        """Asserts the command was refused with `code` on `field` (None: no field is named)."""
        if self.violation is None:
            pytest.fail(f"expected {code!r}, but the command emitted {self.emitted!r}")
        assert (self.violation.code, self.violation.field) == (code, field)
        assert self.violation.message.strip()
        return self.violation
