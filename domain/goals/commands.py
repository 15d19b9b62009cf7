"""Goal commands: what someone asks to happen.

Each command carries who asks (`actor`), the moment it is decided (`now`), any new ids, and what
the log holds that the goal's state does not keep, so that deciding is a pure function of the
command and the goal's state.
"""

from datetime import datetime
from uuid import UUID

import msgspec

from domain.goals.events import CorrectionScope, TermsChange
from domain.goals.terms import GoalTerms, MissCause, Role


class Actor(msgspec.Struct, frozen=True, gc=False):
    user_id: UUID
    role: Role


class SetGoal(msgspec.Struct, frozen=True, gc=False):
    goal_id: UUID
    client_id: UUID
    terms: GoalTerms
    actor: Actor
    now: datetime
    clinic_opened: datetime
    """When the client's clinic began to use the service: a goal may start a year before."""
    replaces: UUID | None = None


class AdjustGoal(msgspec.Struct, frozen=True, gc=False):
    goal_id: UUID
    changes: TermsChange
    reason: str
    actor: Actor
    now: datetime


class RecordProgress(msgspec.Struct, frozen=True, gc=False):
    goal_id: UUID
    check_in_id: UUID
    amount: float
    occurred_at: datetime
    actor: Actor
    now: datetime
    note: str | None = None


class MarkAchieved(msgspec.Struct, frozen=True, gc=False):
    goal_id: UUID
    actor: Actor
    now: datetime
    note: str | None = None


class RecordMiss(msgspec.Struct, frozen=True, gc=False):
    goal_id: UUID
    cause: MissCause
    reflection: str
    actor: Actor
    now: datetime


class PauseGoal(msgspec.Struct, frozen=True, gc=False):
    goal_id: UUID
    reason: str
    actor: Actor
    now: datetime


class ResumeGoal(msgspec.Struct, frozen=True, gc=False):
    goal_id: UUID
    actor: Actor
    now: datetime


class CancelGoal(msgspec.Struct, frozen=True, gc=False):
    goal_id: UUID
    reason: str
    actor: Actor
    now: datetime


class CheckInOnRecord(msgspec.Struct, frozen=True, gc=False):
    """What the goal's events say of one check-in: the goal's state keeps no list of them, so
    the writer reads this from the log (infra/goals/check_ins.py) for a correction to decide on."""

    recorded: bool
    corrected: bool


NOT_ON_RECORD = CheckInOnRecord(recorded=False, corrected=False)


class RecordCorrection(msgspec.Struct, frozen=True, gc=False):
    goal_id: UUID
    scope: CorrectionScope
    reason: str
    actor: Actor
    now: datetime
    check_in_id: UUID | None = None
    on_record: CheckInOnRecord = NOT_ON_RECORD
    """The check-in `check_in_id` as the log holds it; a correction of a goal names none."""


class AddSupporter(msgspec.Struct, frozen=True, gc=False):
    goal_id: UUID
    supporter_id: UUID
    actor: Actor
    now: datetime


class RemoveSupporter(msgspec.Struct, frozen=True, gc=False):
    goal_id: UUID
    supporter_id: UUID
    actor: Actor
    now: datetime


class RateGoal(msgspec.Struct, frozen=True, gc=False):
    goal_id: UUID
    rating: int
    actor: Actor
    now: datetime
    note: str | None = None


GoalCommand = (
    SetGoal
    | AdjustGoal
    | RecordProgress
    | MarkAchieved
    | RecordMiss
    | PauseGoal
    | ResumeGoal
    | CancelGoal
    | RecordCorrection
    | AddSupporter
    | RemoveSupporter
    | RateGoal
)
