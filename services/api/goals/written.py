"""What every goal write shares: the context its command runs in, and the reply it gives."""

import uuid

from litestar import Request

from domain.access.policy import Caller
from domain.goals.commands import Actor
from infra.goals.handler import CommandContext, Handled
from services.api.goals.access import LoadedGoal, render
from services.api.goals.schemas import GoalWarning, WriteResult
from services.api.writes import Reply, reply


def actor_of(caller: Caller) -> Actor:
    return Actor(caller.user_id, caller.role)


def command_context(request: Request, caller: Caller, reason: str | None) -> CommandContext:
    return CommandContext(
        command_id=uuid.uuid4(),
        clinic_id=caller.clinic_id,
        correlation_id=str(request.state.correlation_id),
        reason=reason,
        token_id=caller.token_id,
    )


def written_reply(
    caller: Caller,
    after: LoadedGoal,
    handled: Handled,
    *,
    created: bool = False,
    warnings: list[GoalWarning] | None = None,
) -> Reply:
    """The reply to a write that left the goal `after`; 201 when it set the goal."""
    result = WriteResult(
        goal_id=after.detail.goal_id,
        version=handled.appended.version,
        position=handled.appended.last_position,
        goal=render(after, caller),
        warnings=warnings or [],
    )
    return reply(201 if created else 200, result, handled.appended.version)
