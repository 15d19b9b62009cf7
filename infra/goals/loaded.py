"""A goal as a request holds it: its state, what a screen shows of it, who may act on it."""

import msgspec

from domain.access.policy import GoalAccess
from domain.goals.events import GoalEvent
from domain.goals.state import Goal, GoalState, fold
from domain.goals.view import GoalDetail, advance, goal_detail
from infra.eventstore.envelope import RecordedEvent
from infra.goals import codec
from infra.goals.handler import Handled


class LoadedGoal(msgspec.Struct, frozen=True):
    state: GoalState
    detail: GoalDetail
    access: GoalAccess
    version: int


def loaded_from(recorded: list[RecordedEvent], client: GoalAccess) -> LoadedGoal:
    events: list[GoalEvent] = [codec.decode_event(item) for item in recorded]
    state = fold(events)
    detail = goal_detail(events)
    if detail is None or not isinstance(state, Goal):
        raise ValueError("an empty stream has no goal")
    access = msgspec.structs.replace(client, supporters=state.supporters)
    return LoadedGoal(state, detail, access, recorded[-1].stream_version)


def after_write(before: LoadedGoal | None, access: GoalAccess, handled: Handled) -> LoadedGoal:
    """The goal as a write left it; `before` is None for a goal the write set."""
    state = handled.state
    detail = (
        goal_detail(handled.events) if before is None else advance(before.detail, handled.events)
    )
    if detail is None or not isinstance(state, Goal):
        raise ValueError("a write leaves a goal behind")
    return LoadedGoal(
        state=state,
        detail=detail,
        access=msgspec.structs.replace(access, supporters=state.supporters),
        version=handled.appended.version,
    )
