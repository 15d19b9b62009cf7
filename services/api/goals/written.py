"""What every goal write shares: what the request tells the writer, and the reply it gives."""

from litestar import Request

from infra.goals.writer import Requested, Written
from services.api.auth import Authenticator, authenticated, request_credentials
from services.api.goals.access import render
from services.api.goals.schemas import GoalWarning, WriteResult
from services.api.writes import Reply, reply


def requested(request: Request, reason: str | None = None) -> Requested:
    authenticator: Authenticator = request.app.state.authenticator
    return Requested(
        token_hash=authenticator.token_hash(request_credentials(request)),
        correlation_id=str(request.state.correlation_id),
        reason=reason,
    )


def written_reply(
    request: Request, written: Written, warnings: list[GoalWarning] | None = None
) -> Reply:
    """The reply to a write; 201 when it set the goal."""
    caller = authenticated(request, written.caller)
    appended = written.handled.appended
    result = WriteResult(
        goal_id=written.after.detail.goal_id,
        version=appended.version,
        position=appended.last_position,
        goal=render(written.after, caller),
        warnings=warnings or [],
    )
    return reply(201 if written.created else 200, result, appended.version)
