"""A goal as it stood at a past moment: the fold of the events the log held then.

Within a goal, versions are the order of its events; their recorded times normally rise with
them, but two writers racing for the same goal may stamp a later version a moment earlier
(each stamps when its statement starts, before it waits for the other). The goal as it stood
at `moment` is therefore the longest prefix of its history, in version order, whose events were
all recorded by then: a version is never seen without the versions before it.
"""

from collections.abc import Iterable
from datetime import datetime

import msgspec

from domain.goals.events import GoalEvent
from domain.goals.record import GoalRecord, Stamp, goal_record
from domain.goals.state import Goal, GoalState, fold
from domain.goals.view import GoalDetail, goal_detail


class GoalAsOf(msgspec.Struct, frozen=True, gc=False):
    state: Goal
    detail: GoalDetail
    record: GoalRecord


def history_until(
    history: Iterable[tuple[GoalEvent, Stamp]], moment: datetime
) -> list[tuple[GoalEvent, Stamp]]:
    """The events of `history` (oldest first) that the log held at `moment`."""
    held = []
    for event, stamp in history:
        if stamp.recorded_at > moment:
            break
        held.append((event, stamp))
    return held


def goal_as_of(history: Iterable[tuple[GoalEvent, Stamp]], moment: datetime) -> GoalAsOf | None:
    """The goal at `moment`, or None if it was not yet set then."""
    held = history_until(history, moment)
    events = [event for event, _ in held]
    state: GoalState = fold(events)
    detail = goal_detail(events)
    record = goal_record(held)
    if not isinstance(state, Goal) or detail is None or record is None:
        return None
    return GoalAsOf(state, detail, record)
