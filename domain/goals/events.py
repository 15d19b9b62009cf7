"""Goal events: facts in the past tense, stored forever.

Tags are part of the stored format and are never renamed; a field added later goes last and has a
default, so every event ever written still decodes. Who did it, when, why and the correlation id
travel in the envelope's metadata, not here.
"""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

import msgspec

from domain.goals.terms import (
    GoalTerms,
    LifeArea,
    Measure,
    MissCause,
    Priority,
)


class GoalSet(msgspec.Struct, frozen=True, gc=False, tag="goal_set"):
    goal_id: UUID
    client_id: UUID
    terms: GoalTerms
    replaces: UUID | None = None


class TermsChange(
    msgspec.Struct, frozen=True, gc=False, omit_defaults=True, forbid_unknown_fields=True
):
    """A partial set of goal terms: only the fields that an adjustment touches are present."""

    statement: str | msgspec.UnsetType = msgspec.UNSET
    life_area: LifeArea | msgspec.UnsetType = msgspec.UNSET
    values: tuple[str, ...] | msgspec.UnsetType = msgspec.UNSET
    measure: Measure | msgspec.UnsetType = msgspec.UNSET
    cue: str | msgspec.UnsetType | None = msgspec.UNSET
    due_date: date | msgspec.UnsetType = msgspec.UNSET
    priority: Priority | msgspec.UnsetType = msgspec.UNSET
    time_zone: str | msgspec.UnsetType = msgspec.UNSET


class GoalAdjusted(msgspec.Struct, frozen=True, gc=False, tag="goal_adjusted"):
    goal_id: UUID
    before: TermsChange
    after: TermsChange
    reason: str


class ProgressRecorded(msgspec.Struct, frozen=True, gc=False, tag="progress_recorded"):
    goal_id: UUID
    check_in_id: UUID
    amount: float
    occurred_at: datetime
    note: str | None = None


class GoalAchieved(msgspec.Struct, frozen=True, gc=False, tag="goal_achieved"):
    goal_id: UUID
    note: str | None = None


class GoalMissed(msgspec.Struct, frozen=True, gc=False, tag="goal_missed"):
    goal_id: UUID
    cause: MissCause
    reflection: str


class GoalPaused(msgspec.Struct, frozen=True, gc=False, tag="goal_paused"):
    goal_id: UUID
    reason: str


class GoalResumed(msgspec.Struct, frozen=True, gc=False, tag="goal_resumed"):
    goal_id: UUID


class GoalCancelled(msgspec.Struct, frozen=True, gc=False, tag="goal_cancelled"):
    goal_id: UUID
    reason: str


CorrectionScope = Literal["goal", "check_in"]


class CorrectionRecorded(msgspec.Struct, frozen=True, gc=False, tag="correction_recorded"):
    """Marks the goal, or one check-in, as entered in error. Nothing is erased."""

    goal_id: UUID
    scope: CorrectionScope
    reason: str
    check_in_id: UUID | None = None


class SupporterAdded(msgspec.Struct, frozen=True, gc=False, tag="supporter_added"):
    goal_id: UUID
    supporter_id: UUID


class SupporterRemoved(msgspec.Struct, frozen=True, gc=False, tag="supporter_removed"):
    goal_id: UUID
    supporter_id: UUID


class GoalRated(msgspec.Struct, frozen=True, gc=False, tag="goal_rated"):
    """A therapist's Goal Attainment Scaling rating: -2 (much less than expected) to +2."""

    goal_id: UUID
    rating: int
    note: str | None = None


GoalEvent = (
    GoalSet
    | GoalAdjusted
    | ProgressRecorded
    | GoalAchieved
    | GoalMissed
    | GoalPaused
    | GoalResumed
    | GoalCancelled
    | CorrectionRecorded
    | SupporterAdded
    | SupporterRemoved
    | GoalRated
)
