"""Nudges as people see them: their inbox, their preferences, a supporter's encouragement, and
the one-click unsubscribe link of an e-mail."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post, put
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody

from domain.access.policy import Caller, GoalAction
from domain.goals.rules import check_text
from domain.nudges.preferences import Preferences
from infra.db.connection import Connection
from infra.nudges import encouragement, inbox
from infra.nudges.inbox import InboxNudge
from services.api.deps import Authenticated, CorrelationId, Db
from services.api.errors import Problem, not_found, problem_responses
from services.api.goals.access import load_for
from services.api.nudges.keeping import keep_preferences, mine
from services.api.nudges.schemas import (
    MAX_ENCOURAGEMENT,
    Channels,
    EncouragementOut,
    NewEncouragement,
    NudgeOut,
    NudgePage,
    PreferencesIn,
    PreferencesOut,
    QuietHours,
    clock,
)
from services.api.pages import DEFAULT_PAGE_SIZE, Cursor, PageSize, decode_cursor, encode_cursor
from services.api.writes import IDEMPOTENT_WRITE, Reply, idempotent, metadata_for, reply


def _out(preferences: Preferences) -> PreferencesOut:
    return PreferencesOut(
        time_zone=preferences.time_zone,
        quiet_hours=QuietHours(
            clock(preferences.quiet_start.isoformat()), clock(preferences.quiet_end.isoformat())
        ),
        daily_cap=preferences.daily_cap,
        reminder_time=clock(preferences.reminder_time.isoformat()),
        channels=Channels(in_app=preferences.in_app, email=preferences.email),
        muted_goals=sorted(preferences.muted_goals),
    )


def _nudge_out(nudge: InboxNudge) -> NudgeOut:
    return NudgeOut(**msgspec.structs.asdict(nudge))


@get(
    "/v1/me/notification-preferences",
    summary="My notification preferences: quiet hours, daily cap, channels, muted goals",
    responses=problem_responses(400, 401),
)
async def read_preferences(conn: Db, caller: Authenticated) -> PreferencesOut:
    return _out(await mine(conn, caller))


@put(
    "/v1/me/notification-preferences",
    summary="Set my notification preferences (the whole of them; a field left out takes its "
    "default)",
    responses=problem_responses(400, 401, 413, 422),
)
async def set_preferences(
    data: JSONBody[PreferencesIn], conn: Db, caller: Authenticated, correlation_id: CorrelationId
) -> PreferencesOut:
    wanted = await keep_preferences(conn, caller, data, metadata_for(caller, correlation_id))
    return _out(wanted)


@get(
    "/v1/me/nudges",
    summary="My nudges, newest first",
    responses=problem_responses(400, 401, 422),
)
async def my_nudges(
    conn: Db, caller: Authenticated, cursor: Cursor = None, limit: PageSize = DEFAULT_PAGE_SIZE
) -> NudgePage:
    before = None if cursor is None else decode_cursor(cursor, tuple[datetime, UUID])
    found = await inbox.newest(
        conn, caller.user_id, caller.clinic_id, before=before, limit=limit + 1
    )
    page = found[:limit]
    next_cursor = None
    if len(found) > limit:
        next_cursor = encode_cursor(page[-1].sent_at.isoformat(), str(page[-1].id))
    return NudgePage([_nudge_out(nudge) for nudge in page], next_cursor)


@post(
    "/v1/me/nudges/{nudge_id:uuid}/read",
    summary="Mark one of my nudges read",
    status_code=200,
    responses=problem_responses(400, 401, 404),
)
async def read_nudge(nudge_id: FromPath[UUID], conn: Db, caller: Authenticated) -> NudgeOut:
    marked = await inbox.mark_read(conn, caller.user_id, caller.clinic_id, nudge_id)
    if marked is None:
        raise not_found("nudge")
    return _nudge_out(marked)


async def encouragement_sender(
    request: Request, conn: Connection, goal_id: UUID, message: str, correlation_id: str
) -> tuple[Caller, Callable[[], Awaitable[UUID]]]:
    """The supporter, and what stores their encouragement of the goal (its nudge's id) once
    called: the message's rules and the supporter's access are checked first (422, 404, 403);
    409 when the client can no longer be reached."""
    check_text(message, "message", limit=MAX_ENCOURAGEMENT)
    caller, loaded = await load_for(request, goal_id, GoalAction.ENCOURAGE)

    async def send() -> UUID:
        stored = await encouragement.encourage(
            conn,
            goal_id=goal_id,
            client_id=loaded.access.client_id,
            supporter_id=caller.user_id,
            text=message,
            now=datetime.now(UTC),
            metadata=metadata_for(caller, correlation_id),
        )
        if stored is None:
            raise Problem(409, "client_unreachable", "This client can no longer be reached.")
        return stored

    return caller, send


@post(
    "/v1/goals/{goal_id:uuid}/encouragements",
    summary="Send encouragement on a goal shared with me (supporters)",
    responses={
        201: ResponseSpec(
            data_container=EncouragementOut,
            description="Stored; it reaches the client as a nudge",
            generate_examples=False,
        ),
        **problem_responses(400, 401, 403, 404, 409, 413, 422),
    },
    operation_class=IDEMPOTENT_WRITE,
)
async def encourage(
    request: Request,
    goal_id: FromPath[UUID],
    data: JSONBody[NewEncouragement],
    conn: Db,
    correlation_id: CorrelationId,
) -> Response[bytes]:
    caller, send = await encouragement_sender(request, conn, goal_id, data.message, correlation_id)

    async def produce() -> Reply:
        return reply(201, EncouragementOut(await send(), "pending"))

    return await idempotent(request, conn, caller, produce)


ROUTES = [read_preferences, set_preferences, my_nudges, read_nudge, encourage]
