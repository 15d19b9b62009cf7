"""A check-in whose id the goal already holds: most often a retry (domain/goals/retries.py)."""

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from litestar import Request, Response

from domain.access.policy import GoalAction
from domain.goals.commands import Actor, RecordProgress
from domain.goals.events import ProgressRecorded
from domain.goals.retries import same_check_in
from infra.eventstore.envelope import RecordedEvent
from infra.goals import codec
from infra.goals.loaded import loaded_from
from infra.goals.streams import goal_stream
from infra.goals.writer import actor_of
from services.api.errors import Problem
from services.api.goals.access import goal_writer, load_for, render
from services.api.goals.schemas import WriteResult
from services.api.writes import as_response, reply

CheckInMaker = Callable[[Actor, datetime], RecordProgress]


def _recording(recorded: list[RecordedEvent], check_in_id: UUID) -> tuple[int, ProgressRecorded]:
    """Where in the goal's events the check-in was recorded, and its event."""
    for index, item in enumerate(recorded):
        event = codec.decode_event(item)
        if isinstance(event, ProgressRecorded) and event.check_in_id == check_in_id:
            return index, event
    raise RuntimeError(f"a goal holds check-in {check_in_id} but not its event")


async def replayed_check_in(
    request: Request, goal_id: UUID, make: CheckInMaker, *, names_its_moment: bool
) -> Response[bytes]:
    """The answer to a check-in whose id the goal already holds: the first request's answer
    (the goal as that check-in left it, its version and position) if this one says the same
    (domain/goals/retries.py), else 409."""
    caller, loaded = await load_for(request, goal_id, GoalAction.WRITE)
    command = make(actor_of(caller), datetime.now(UTC))
    recorded = await goal_writer(request).store.stream(goal_stream(goal_id))
    index, event = _recording(recorded, command.check_in_id)
    item = recorded[index]
    if not same_check_in(event, item.metadata.actor_id, command, names_its_moment=names_its_moment):
        raise Problem(
            409,
            "check_in_conflict",
            "Another check-in with this check_in_id is already recorded; send a new id.",
        )
    first = loaded_from(recorded[: index + 1], loaded.access)
    result = WriteResult(
        goal_id=goal_id,
        version=item.stream_version,
        position=item.position,
        goal=render(first, caller),
        warnings=[],
    )
    return as_response(reply(200, result, item.stream_version), replayed=True)
