"""Request and response bodies for goals."""

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from domain.goals.events import CorrectionScope
from domain.goals.terms import LifeArea, Measure, MissCause, Priority
from domain.goals.view import CheckIn, Reflection

ShortText = Annotated[str, msgspec.Meta(max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=2000)]
Value = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
Values = Annotated[list[Value], msgspec.Meta(max_length=10)]


class Body(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


class NewGoal(Body, frozen=True):
    statement: ShortText
    life_area: LifeArea
    measure: Measure
    start_date: date
    due_date: date
    client_id: UUID | None = None
    """Whose goal it is; a client setting their own goal may leave it out."""
    values: Values = msgspec.field(default_factory=list)
    cue: ShortText | None = None
    """An implementation intention: "when X happens, I will Y"."""
    priority: Priority = "medium"
    replaces: UUID | None = None
    """The ended goal that this one is a fresh attempt at."""


class GoalChanges(Body, frozen=True, omit_defaults=True):
    statement: ShortText | msgspec.UnsetType = msgspec.UNSET
    life_area: LifeArea | msgspec.UnsetType = msgspec.UNSET
    values: Values | msgspec.UnsetType = msgspec.UNSET
    measure: Measure | msgspec.UnsetType = msgspec.UNSET
    cue: ShortText | msgspec.UnsetType | None = msgspec.UNSET
    due_date: date | msgspec.UnsetType = msgspec.UNSET
    priority: Priority | msgspec.UnsetType = msgspec.UNSET


class Adjustment(Body, frozen=True):
    changes: GoalChanges
    reason: LongText


class NewCheckIn(Body, frozen=True):
    amount: float = 1
    occurred_at: datetime | None = None
    """When it happened, with its UTC offset; now if left out."""
    note: LongText | None = None
    check_in_id: UUID | None = None
    """Chosen by the device, so that sending the same check-in twice records it once."""


class Achievement(Body, frozen=True):
    note: LongText | None = None


class Miss(Body, frozen=True):
    cause: MissCause
    reflection: LongText = ""


class Reason(Body, frozen=True):
    reason: LongText


class Rating(Body, frozen=True):
    rating: Annotated[int, msgspec.Meta(ge=-2, le=2)]
    """Goal Attainment Scaling: -2 much less than expected, 0 as expected, +2 much more."""
    note: LongText | None = None


class Correction(Body, frozen=True):
    scope: CorrectionScope
    reason: LongText
    check_in_id: UUID | None = None


class GoalWarning(msgspec.Struct, frozen=True):
    code: str
    message: str


class GoalOut(msgspec.Struct, frozen=True, tag="full", tag_field="view"):
    goal_id: UUID
    client_id: UUID
    version: int
    statement: str
    life_area: LifeArea
    values: list[str]
    measure: Measure
    cue: str | None
    start_date: date
    due_date: date
    priority: Priority
    time_zone: str
    status: str
    status_reason: str | None
    replaces: UUID | None
    reflection: Reflection | None
    achievement_note: str | None
    progress_total: float
    check_in_count: int
    """Check-ins not entered in error."""
    recent_check_ins: list[CheckIn]
    """The latest check-ins, newest last; at most 10. Every one is in the history, and their
    totals per period in the progress."""
    supporters: list[UUID]
    attainment_rating: int | None


class SharedGoalOut(msgspec.Struct, frozen=True, tag="shared", tag_field="view"):
    """What an accountability partner sees: no notes, no reflections."""

    goal_id: UUID
    version: int
    statement: str
    measure: Measure
    due_date: date
    status: str
    progress_total: float
    check_in_count: int
    last_check_in_at: datetime | None


class WriteResult(msgspec.Struct, frozen=True):
    goal_id: UUID
    version: int
    position: int
    goal: GoalOut | SharedGoalOut
    warnings: list[GoalWarning] = msgspec.field(default_factory=list)


class Actor(msgspec.Struct, frozen=True):
    id: UUID | None
    name: str | None
    role: str


class CorrectionMark(msgspec.Struct, frozen=True):
    """The event that marked an entry (a check-in, or the whole goal) as entered in error."""

    version: int
    recorded_at: datetime
    actor: Actor
    reason: str


class HistoryEntry(msgspec.Struct, frozen=True):
    version: int
    position: int
    type: str
    recorded_at: datetime
    actor: Actor
    reason: str | None
    correlation_id: str
    data: dict[str, object]
    entered_in_error: bool = False
    """A check-in (or the goal's setting, for a goal entered in error) that a correction marks;
    it stays in the history, beside the correction."""
    corrected_by: CorrectionMark | None = None
