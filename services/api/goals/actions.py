"""Everything that changes a goal once it is set: each a command through the goal writer."""

import uuid
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Request, Response, delete, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody

from domain.access.policy import Caller, GoalAction, may_unshare
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
from infra.access import queries
from infra.db.connection import Connection
from infra.goals.loaded import LoadedGoal
from infra.goals.writer import CommandMaker, Load, Subject
from services.api.deps import Db
from services.api.errors import Problem, forbidden, not_found, problem_responses
from services.api.goals.access import goal_writer, load_for
from services.api.goals.check_ins import replayed_check_in
from services.api.goals.schemas import (
    Achievement,
    Adjustment,
    Correction,
    Miss,
    NewCheckIn,
    Rating,
    Reason,
    WriteResult,
)
from services.api.goals.written import requested, written_reply
from services.api.writes import (
    WRITE_ON_A_GOAL,
    Reply,
    as_response,
    expected_version,
    idempotent,
)

_AFTER_WRITE = ResponseSpec(
    data_container=WriteResult,
    description="The goal as the write left it, with its new version and log position",
    generate_examples=False,
)
# What every goal action may answer; the handlers build their responses themselves.
WRITE_RESPONSES = {200: _AFTER_WRITE, **problem_responses(400, 401, 403, 404, 409, 413, 422)}


def subject_of(caller: Caller, loaded: LoadedGoal) -> Load:
    """A `Load` for a goal the route has loaded already."""

    async def load() -> Subject:
        return Subject(caller, loaded.access, loaded)

    return load


def loader(request: Request, goal_id: UUID, action: GoalAction = GoalAction.WRITE) -> Load:
    """A `Load` of the goal for the request's caller, refusing what they may not do."""

    async def load() -> Subject:
        caller, loaded = await load_for(request, goal_id, action)
        return Subject(caller, loaded.access, loaded)

    return load


def check_in_maker(goal_id: UUID, data: NewCheckIn) -> Callable[[Actor, datetime], RecordProgress]:
    """The check-in `data` asks for, as the caller's, now unless it names its moment."""
    check_in_id = data.check_in_id or uuid.uuid4()

    def make(actor: Actor, now: datetime) -> RecordProgress:
        occurred_at = data.occurred_at or now
        return RecordProgress(goal_id, check_in_id, data.amount, occurred_at, actor, now, data.note)

    return make


def adjust_maker(
    goal_id: UUID, changes: TermsChange, reason: str
) -> Callable[[Actor, datetime], AdjustGoal]:
    """The adjustment of the goal's terms to `changes`, for `reason`, as the caller's."""

    def make(actor: Actor, now: datetime) -> AdjustGoal:
        return AdjustGoal(goal_id, changes, reason, actor, now)

    return make


def rate_maker(goal_id: UUID, data: Rating) -> Callable[[Actor, datetime], RateGoal]:
    """The caller's Goal Attainment Scaling rating of the goal (write it with the RATE action)."""

    def make(actor: Actor, now: datetime) -> RateGoal:
        return RateGoal(goal_id, data.rating, actor, now, data.note)

    return make


async def _write(
    request: Request,
    goal_id: UUID,
    make: CommandMaker,
    *,
    reason: str | None = None,
    action: GoalAction = GoalAction.WRITE,
) -> Response[bytes]:
    writer = goal_writer(request)
    headers = request.headers
    if headers.get("if-match") is None and headers.get("idempotency-key") is None:
        written = await writer.write(
            goal_id, make, requested(request, reason), load=loader(request, goal_id, action)
        )
        return as_response(written_reply(request, written))
    caller, loaded = await load_for(request, goal_id, action)

    async def produce(conn: Connection | None) -> Reply:
        written = await writer.write(
            goal_id,
            make,
            requested(request, reason),
            expected_version(request),
            load=subject_of(caller, loaded),
            conn=conn,
        )
        return written_reply(request, written)

    if headers.get("idempotency-key") is None:
        return as_response(await produce(None))
    # The key, the write and the reply kept for retries: one transaction, on one connection.
    async with writer.store.connection() as conn:
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
    return await _write(
        request, goal_id, adjust_maker(goal_id, changes, data.reason), reason=data.reason
    )


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
    make = check_in_maker(goal_id, data)
    try:
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
    return await _write(request, goal_id, rate_maker(goal_id, data), action=GoalAction.RATE)


async def _in_the_requests_transaction(
    request: Request, conn: Connection, caller: Caller, loaded: LoadedGoal, make: CommandMaker
) -> Response[bytes]:
    """A write that goes in on the request's connection, in its transaction (sharing a goal
    reads the people it names there), answering retries under an Idempotency-Key."""

    async def produce() -> Reply:
        written = await goal_writer(request).write(
            loaded.detail.goal_id,
            make,
            requested(request),
            expected_version(request),
            load=subject_of(caller, loaded),
            conn=conn,
        )
        return written_reply(request, written)

    return await idempotent(request, conn, caller, produce)


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
    await _supporter(conn, caller, user_id)

    def make(actor: Actor, now: datetime) -> GoalCommand:
        return AddSupporter(goal_id, user_id, actor, now)

    return await _in_the_requests_transaction(request, conn, caller, loaded, make)


@delete(
    "/v1/goals/{goal_id:uuid}/supporters/{user_id:uuid}",
    summary="Stop sharing a goal with an accountability partner",
    status_code=200,
    responses={200: _AFTER_WRITE, **problem_responses(400, 401, 403, 404, 409, 422)},
    operation_class=WRITE_ON_A_GOAL,
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

    def make(actor: Actor, now: datetime) -> GoalCommand:
        return RemoveSupporter(goal_id, user_id, actor, now)

    return await _in_the_requests_transaction(request, conn, caller, loaded, make)


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
