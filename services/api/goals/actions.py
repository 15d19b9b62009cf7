"""Everything that changes a goal once it is set: each a command through the one handler."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

import msgspec
from litestar import Request, Response, delete, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody

from domain.access.policy import Caller, GoalAccess, GoalAction, may_unshare
from domain.goals.commands import (
    Actor,
    AddSupporter,
    AdjustGoal,
    CancelGoal,
    GoalCommand,
    MarkAchieved,
    PauseGoal,
    RateGoal,
    RecordCorrection,
    RecordMiss,
    RecordProgress,
    RemoveSupporter,
    ResumeGoal,
)
from domain.goals.errors import GoalRuleViolation
from domain.goals.events import TermsChange
from domain.goals.state import GoalState, NoGoal
from infra.access import queries
from infra.db.connection import Connection
from infra.eventstore.store import WrongExpectedVersion
from infra.goals.handler import CommandContext, Handled, attempt, handle
from services.api.deps import Db
from services.api.errors import Problem, forbidden, not_found, problem_responses
from services.api.goals.access import LoadedGoal, after_write, folds, load_for
from services.api.goals.check_ins import check_in_at_once, replayed_check_in
from services.api.goals.schemas import (
    Achievement,
    Adjustment,
    Correction,
    GoalWarning,
    Miss,
    NewCheckIn,
    Rating,
    Reason,
    WriteResult,
)
from services.api.goals.store import goal_store
from services.api.goals.written import actor_of, command_context, written_reply
from services.api.writes import (
    WRITE_ON_A_GOAL,
    Reply,
    as_response,
    documented,
    expected_version,
    idempotent,
)


async def run_command(
    request: Request,
    caller: Caller,
    command: GoalCommand,
    *,
    before: LoadedGoal | None,
    access: GoalAccess,
    conn: Connection | None,
    reason: str | None = None,
    warnings: list[GoalWarning] | None = None,
) -> Reply:
    """Runs the command on the goal as the caller loaded it (`before`; None for a new goal).

    On `conn`, when the write belongs to the request's transaction; without one it shares its
    round trip with other requests' writes.
    """
    context = command_context(request, caller, reason)
    if before is None:
        loaded: tuple[GoalState, int] = (NoGoal(), 0)
        expected: int | None = 0
    else:
        loaded, expected = (before.state, before.version), expected_version(request)
    if conn is not None:
        handled = await handle(conn, command, context, expected, loaded, folds=folds)
    else:
        handled = await _shared_round_trips(request, command, context, loaded, expected)
    after = after_write(before, access, handled)
    return written_reply(caller, after, handled, created=before is None, warnings=warnings)


async def _shared_round_trips(
    request: Request,
    command: GoalCommand,
    context: CommandContext,
    loaded: tuple[GoalState, int],
    expected: int | None,
) -> Handled:
    store = goal_store(request)
    try:
        return await attempt(store.append, command, context, loaded, expected)
    except WrongExpectedVersion:
        if expected is not None:
            raise
    # Someone wrote first: the handler reads the goal again and, if need be, queues.
    async with store.connection() as conn:
        return await handle(conn, command, context, folds=folds)


_AFTER_WRITE = ResponseSpec(
    data_container=WriteResult,
    description="The goal as the write left it, with its new version and log position",
    generate_examples=False,
)
# What every goal action may answer; the handlers build their responses themselves.
WRITE_RESPONSES = {200: _AFTER_WRITE, **problem_responses(400, 401, 403, 404, 409, 413, 422)}

CommandMaker = Callable[[Actor, datetime], GoalCommand]
"""Builds the command once the actor and the moment are known."""


async def _write(
    request: Request,
    goal_id: UUID,
    make: CommandMaker,
    *,
    reason: str | None = None,
    action: GoalAction = GoalAction.WRITE,
) -> Response[bytes]:
    caller, loaded = await load_for(request, goal_id, action)

    async def produce(conn: Connection | None) -> Reply:
        command = make(actor_of(caller), datetime.now(UTC))
        return await run_command(
            request, caller, command, before=loaded, access=loaded.access, conn=conn, reason=reason
        )

    if request.headers.get("idempotency-key") is None:
        return as_response(await produce(None))
    # The key, the write and the reply kept for retries: one transaction, on one connection.
    async with goal_store(request).connection() as conn:
        return await idempotent(request, conn, caller, lambda: produce(conn))


@post(
    "/v1/goals/{goal_id:uuid}/adjustments",
    summary="Adjust a goal's terms, with a reason",
    status_code=200,
    responses=WRITE_RESPONSES,
    operation_class=WRITE_ON_A_GOAL,
)
async def adjust(
    request: Request,
    goal_id: FromPath[UUID],
    data: JSONBody[Adjustment],
) -> Response[bytes]:
    changes = TermsChange(
        **{field: getattr(data.changes, field) for field in data.changes.__struct_fields__}
    )
    values = changes.values
    if isinstance(values, list):
        changes = msgspec.structs.replace(changes, values=tuple(values))

    def make(actor: Actor, now: datetime) -> GoalCommand:
        return AdjustGoal(goal_id, changes, data.reason, actor, now)

    return await _write(request, goal_id, make, reason=data.reason)


@post(
    "/v1/goals/{goal_id:uuid}/check-ins",
    summary="Record progress: a check-in",
    status_code=200,
    responses=WRITE_RESPONSES,
    operation_class=WRITE_ON_A_GOAL,
)
async def check_in(
    request: Request,
    goal_id: FromPath[UUID],
    data: JSONBody[NewCheckIn | None] = None,
) -> Response[bytes]:
    """Every field has a default: a check-in with no body counts 1, now."""
    data = data or NewCheckIn()
    check_in_id = data.check_in_id or uuid.uuid4()

    def make(actor: Actor, now: datetime) -> RecordProgress:
        occurred_at = data.occurred_at or now
        return RecordProgress(goal_id, check_in_id, data.amount, occurred_at, actor, now, data.note)

    headers = request.headers
    try:
        if headers.get("if-match") is None and headers.get("idempotency-key") is None:
            written = await check_in_at_once(request, goal_id, make)
            if written is not None:
                return as_response(written)
        return await _write(request, goal_id, make)
    except GoalRuleViolation as refused:
        if refused.code != "check_in_exists":
            raise
    # A retry, most often: see domain/goals/retries.py.
    names_its_moment = data.occurred_at is not None
    return await replayed_check_in(request, goal_id, make, names_its_moment=names_its_moment)


@post(
    "/v1/goals/{goal_id:uuid}/achievement",
    summary="Mark a goal achieved",
    status_code=200,
    responses=WRITE_RESPONSES,
    operation_class=WRITE_ON_A_GOAL,
)
async def achieve(
    request: Request,
    goal_id: FromPath[UUID],
    data: JSONBody[Achievement | None] = None,
) -> Response[bytes]:
    note = None if data is None else data.note

    def make(actor: Actor, now: datetime) -> GoalCommand:
        return MarkAchieved(goal_id, actor, now, note)

    return await _write(request, goal_id, make)


@post(
    "/v1/goals/{goal_id:uuid}/miss",
    summary="Close a goal as missed, with a reflection",
    status_code=200,
    responses=WRITE_RESPONSES,
    operation_class=WRITE_ON_A_GOAL,
)
async def miss(request: Request, goal_id: FromPath[UUID], data: JSONBody[Miss]) -> Response[bytes]:
    def make(actor: Actor, now: datetime) -> GoalCommand:
        return RecordMiss(goal_id, data.cause, data.reflection, actor, now)

    return await _write(request, goal_id, make)


@post(
    "/v1/goals/{goal_id:uuid}/pause",
    summary="Pause a goal while life needs it",
    status_code=200,
    responses=WRITE_RESPONSES,
    operation_class=WRITE_ON_A_GOAL,
)
async def pause(
    request: Request,
    goal_id: FromPath[UUID],
    data: JSONBody[Reason],
) -> Response[bytes]:
    def make(actor: Actor, now: datetime) -> GoalCommand:
        return PauseGoal(goal_id, data.reason, actor, now)

    return await _write(request, goal_id, make, reason=data.reason)


@post(
    "/v1/goals/{goal_id:uuid}/resume",
    summary="Resume a paused goal",
    status_code=200,
    responses=WRITE_RESPONSES,
    operation_class=WRITE_ON_A_GOAL,
)
async def resume(request: Request, goal_id: FromPath[UUID]) -> Response[bytes]:
    def make(actor: Actor, now: datetime) -> GoalCommand:
        return ResumeGoal(goal_id, actor, now)

    return await _write(request, goal_id, make)


@post(
    "/v1/goals/{goal_id:uuid}/cancel",
    summary="Cancel a goal",
    status_code=200,
    responses=WRITE_RESPONSES,
    operation_class=WRITE_ON_A_GOAL,
)
async def cancel(
    request: Request,
    goal_id: FromPath[UUID],
    data: JSONBody[Reason],
) -> Response[bytes]:
    def make(actor: Actor, now: datetime) -> GoalCommand:
        return CancelGoal(goal_id, data.reason, actor, now)

    return await _write(request, goal_id, make, reason=data.reason)


@post(
    "/v1/goals/{goal_id:uuid}/corrections",
    summary="Mark the goal, or one check-in, as entered in error",
    status_code=200,
    responses=WRITE_RESPONSES,
    operation_class=WRITE_ON_A_GOAL,
)
async def correct(
    request: Request,
    goal_id: FromPath[UUID],
    data: JSONBody[Correction],
) -> Response[bytes]:
    def make(actor: Actor, now: datetime) -> GoalCommand:
        return RecordCorrection(goal_id, data.scope, data.reason, actor, now, data.check_in_id)

    return await _write(request, goal_id, make, reason=data.reason)


@post(
    "/v1/goals/{goal_id:uuid}/ratings",
    summary="Rate goal attainment, -2 to +2 (the client's therapist)",
    status_code=200,
    responses=WRITE_RESPONSES,
    operation_class=WRITE_ON_A_GOAL,
)
async def rate(
    request: Request,
    goal_id: FromPath[UUID],
    data: JSONBody[Rating],
) -> Response[bytes]:
    def make(actor: Actor, now: datetime) -> GoalCommand:
        return RateGoal(goal_id, data.rating, actor, now, data.note)

    return await _write(request, goal_id, make, action=GoalAction.RATE)


async def _supporter(conn: Connection, caller: Caller, user_id: UUID) -> None:
    user = await queries.user_in_clinic(conn, caller.clinic_id, user_id)
    if user is None:
        raise not_found("user")
    if user.role != "supporter":
        raise Problem(422, "not_a_supporter", "Only accountability partners can follow goals.")


@post(
    "/v1/goals/{goal_id:uuid}/supporters/{user_id:uuid}",
    summary="Share a goal with an accountability partner (the client)",
    status_code=200,
    responses=WRITE_RESPONSES,
    operation_class=WRITE_ON_A_GOAL,
)
async def add_supporter(
    request: Request,
    goal_id: FromPath[UUID],
    user_id: FromPath[UUID],
    conn: Db,
) -> Response[bytes]:
    caller, loaded = await load_for(request, goal_id, GoalAction.SHARE)

    async def produce() -> Reply:
        await _supporter(conn, caller, user_id)
        command = AddSupporter(goal_id, user_id, actor_of(caller), datetime.now(UTC))
        return await run_command(
            request, caller, command, before=loaded, access=loaded.access, conn=conn
        )

    return await idempotent(request, conn, caller, produce)


@delete(
    "/v1/goals/{goal_id:uuid}/supporters/{user_id:uuid}",
    summary="Stop sharing a goal with an accountability partner",
    status_code=200,
    responses={200: _AFTER_WRITE, **problem_responses(400, 401, 403, 404, 409, 422)},
    operation_class=documented(reads=("If-Match",), answers=("ETag",)),
)
async def remove_supporter(
    request: Request,
    goal_id: FromPath[UUID],
    user_id: FromPath[UUID],
    conn: Db,
) -> Response[bytes]:
    caller, loaded = await load_for(request, goal_id, GoalAction.UNSHARE)
    if not may_unshare(caller, loaded.access, user_id):
        raise forbidden()
    command = RemoveSupporter(goal_id, user_id, actor_of(caller), datetime.now(UTC))
    result = await run_command(
        request, caller, command, before=loaded, access=loaded.access, conn=conn
    )
    return as_response(result)


ROUTES = [
    adjust,
    check_in,
    achieve,
    miss,
    pause,
    resume,
    cancel,
    correct,
    rate,
    add_supporter,
    remove_supporter,
]
