"""What the log says about a goal beside its events' bodies, and FHIR asks for: its version,
when it last changed, since when its status holds, and who set it.

The goal's own fold (`view.goal_detail`) reads events alone; these facts come from each event's
envelope, given here as a `Stamp`. They change only at a goal's first event, at events that
change its status (`STATUS_EVENT_TYPES`), and at its latest event, so a reader may fold just
those and get the same record as from the whole history (tests/unit/goals/test_goal_record.py
holds it to that).
"""

from collections.abc import Iterable
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


class Stamp(msgspec.Struct, frozen=True, gc=False):
    """An event's place and author, as its envelope records them."""

    version: int
    recorded_at: datetime
    actor_id: UUID | None
    """None for the system itself."""
    actor_role: str


class Author(msgspec.Struct, frozen=True, gc=False):
    user_id: UUID
    role: str


class GoalRecord(msgspec.Struct, frozen=True, gc=False):
    version: int
    last_updated: datetime
    status_since: datetime
    """When the goal's current status took effect: when it was set, ended, paused or resumed."""
    set_by: Author | None
    """Who set the goal; None when the system did."""


def _status_event_types() -> frozenset[str]:
    classes = (GoalSet, GoalAchieved, GoalMissed, GoalPaused, GoalResumed, GoalCancelled)
    return frozenset(str(cls.__struct_config__.tag) for cls in (*classes, CorrectionRecorded))


STATUS_EVENT_TYPES = _status_event_types()
"""The stored types of every event that may change a goal's status (a correction does only when
it is of the whole goal)."""


def _changes_status(event: GoalEvent) -> bool:
    match event:
        case GoalAchieved() | GoalMissed() | GoalPaused() | GoalResumed() | GoalCancelled():
            return True
        case CorrectionRecorded(scope=scope):
            return scope == "goal"
        case (
            GoalAdjusted()
            | ProgressRecorded()
            | SupporterAdded()
            | SupporterRemoved()
            | GoalRated()
            | GoalSet()
        ):
            return False
    assert_never(event)


def recorded(record: GoalRecord | None, event: GoalEvent, stamp: Stamp) -> GoalRecord:
    """The record after `event`; `record` is None before the goal's first event."""
    if record is None:
        if not isinstance(event, GoalSet):
            raise EventOutOfOrder(f"a goal's first event is goal_set, not {type(event).__name__}")
        author = None if stamp.actor_id is None else Author(stamp.actor_id, stamp.actor_role)
        return GoalRecord(stamp.version, stamp.recorded_at, stamp.recorded_at, author)
    if isinstance(event, GoalSet):
        raise EventOutOfOrder("a goal is set once")
    since = stamp.recorded_at if _changes_status(event) else record.status_since
    return msgspec.structs.replace(
        record, version=stamp.version, last_updated=stamp.recorded_at, status_since=since
    )


def goal_record(history: Iterable[tuple[GoalEvent, Stamp]]) -> GoalRecord | None:
    """The record of a goal's events (all of them, or at least its first, its last and those
    of `STATUS_EVENT_TYPES`), oldest first; None for no events."""
    record: GoalRecord | None = None
    for event, stamp in history:
        record = recorded(record, event, stamp)
    return record
