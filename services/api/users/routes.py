"""Users and who is on a client's care team. Admins manage; nobody else does, except that a
user may see themself and change their own name and time zone."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Request, Response, delete, get, patch, post, put
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_204_NO_CONTENT

from domain.goals.terms import Role
from infra.access import directory
from infra.access.directory import DirectoryEntry
from infra.access.queries import User
from services.api.deps import Authenticated, CorrelationId, Db
from services.api.errors import Problem, problem_responses
from services.api.pages import DEFAULT_PAGE_SIZE, Cursor, PageSize, decode_cursor, encode_cursor
from services.api.users import actions, clinic, tokens
from services.api.users.access import known_time_zone, require_admin, visible_user
from services.api.users.schemas import Assignment, NewUser, UserChanges, UserOut, UserPage
from services.api.writes import (
    IDEMPOTENT_WRITE,
    Reply,
    idempotent,
    idempotent_without_body,
    reply,
)


def _user_out(user: User, deactivated_at: datetime | None = None) -> UserOut:
    return UserOut(**msgspec.structs.asdict(user), deactivated_at=deactivated_at)


def _entry_out(entry: DirectoryEntry) -> UserOut:
    return _user_out(entry.user, entry.deactivated_at)


def _email_taken() -> Problem:
    return Problem(409, "email_taken", "This clinic already has a user with this email.")


@post(
    "/v1/users",
    summary="Register a user in the caller's clinic (admins)",
    responses={
        201: ResponseSpec(
            data_container=UserOut, description="The user as registered", generate_examples=False
        ),
        **problem_responses(400, 401, 403, 409, 413, 422),
    },
    operation_class=IDEMPOTENT_WRITE,
)
async def create_user(
    request: Request,
    data: JSONBody[NewUser],
    conn: Db,
    caller: Authenticated,
    correlation_id: CorrelationId,
) -> Response[bytes]:
    require_admin(caller)
    if data.time_zone is not None:
        known_time_zone(data.time_zone)

    async def produce() -> Reply:
        return reply(201, _user_out(await actions.register(conn, caller, data, correlation_id)))

    return await idempotent(request, conn, caller, produce)


@get(
    "/v1/users",
    summary="The clinic's users, by name (admins)",
    responses=problem_responses(400, 401, 403, 422),
)
async def list_users(
    conn: Db,
    caller: Authenticated,
    role: Annotated[Role | None, QueryParameter(description="Only users of this role.")] = None,
    search: Annotated[
        str | None,
        QueryParameter(
            min_length=1,
            max_length=100,
            pattern=r"^[^\x00]*$",
            description="A part of a name or email, any case.",
        ),
    ] = None,
    active: Annotated[
        bool | None,
        QueryParameter(description="true: active users only; false: deactivated ones only."),
    ] = None,
    cursor: Cursor = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
) -> UserPage:
    require_admin(caller)
    after = None if cursor is None else decode_cursor(cursor, tuple[str, UUID])
    found = await directory.find_users(
        conn,
        caller.clinic_id,
        role=role,
        search=search,
        active=active,
        after=after,
        limit=limit + 1,
    )
    page = found[:limit]
    next_cursor = None
    if len(found) > limit:
        last = page[-1].user
        next_cursor = encode_cursor(last.display_name, str(last.id))
    return UserPage([_entry_out(entry) for entry in page], next_cursor)


@get(
    "/v1/users/{user_id:uuid}",
    summary="A user's profile (admins, or the user)",
    responses=problem_responses(400, 401, 404),
)
async def read_user(user_id: FromPath[UUID], conn: Db, caller: Authenticated) -> UserOut:
    return _entry_out(await visible_user(conn, caller, user_id))


def _the_user(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=UserOut, description=description, generate_examples=False)


@patch(
    "/v1/users/{user_id:uuid}",
    summary="Change a user's name, email or time zone (admins; the user, all but the email)",
    responses={
        200: _the_user("The user as changed"),
        **problem_responses(400, 401, 403, 404, 409, 413, 422),
    },
    operation_class=IDEMPOTENT_WRITE,
)
async def change_user(
    request: Request,
    user_id: FromPath[UUID],
    data: JSONBody[UserChanges],
    conn: Db,
    caller: Authenticated,
    correlation_id: CorrelationId,
) -> Response[bytes]:
    found = await visible_user(conn, caller, user_id)
    if data.email is not None and caller.role != "admin":
        raise Problem(403, "forbidden", "Only an admin changes a user's email.")
    if data.time_zone is not None:
        known_time_zone(data.time_zone)

    async def produce() -> Reply:
        changed = await actions.change(conn, caller, found, data, correlation_id)
        return reply(200, _user_out(changed, found.deactivated_at))

    return await idempotent(request, conn, caller, produce)


@post(
    "/v1/users/{user_id:uuid}/deactivation",
    summary="Deactivate a user (admins): their tokens stop working, their history stays",
    status_code=200,
    responses={
        200: _the_user("The user, deactivated"),
        **problem_responses(400, 401, 403, 404, 409),
    },
    operation_class=IDEMPOTENT_WRITE,
)
async def deactivate_user(
    request: Request,
    user_id: FromPath[UUID],
    conn: Db,
    caller: Authenticated,
    correlation_id: CorrelationId,
) -> Response[bytes]:
    require_admin(caller)
    found = await visible_user(conn, caller, user_id)

    async def produce() -> Reply:
        return reply(200, _entry_out(await actions.deactivate(conn, caller, found, correlation_id)))

    return await idempotent(request, conn, caller, produce)


@put(
    "/v1/clients/{client_id:uuid}/therapists/{therapist_id:uuid}",
    summary="Put a therapist on a client's care team (admins)",
    responses={
        200: ResponseSpec(
            data_container=Assignment,
            description="The therapist is on the client's care team",
            generate_examples=False,
        ),
        **problem_responses(400, 401, 403, 404, 422),
    },
    operation_class=IDEMPOTENT_WRITE,
)
async def assign_therapist(
    request: Request,
    client_id: FromPath[UUID],
    therapist_id: FromPath[UUID],
    conn: Db,
    caller: Authenticated,
    correlation_id: CorrelationId,
) -> Response[bytes]:
    await actions.care_team_members(conn, caller, client_id, therapist_id)

    async def produce() -> Reply:
        await actions.assign(conn, caller, client_id, therapist_id, correlation_id)
        return reply(200, Assignment(client_id, therapist_id))

    return await idempotent(request, conn, caller, produce)


@delete(
    "/v1/clients/{client_id:uuid}/therapists/{therapist_id:uuid}",
    summary="Take a therapist off a client's care team (admins)",
    status_code=HTTP_204_NO_CONTENT,
    responses=problem_responses(400, 401, 403, 404, 422),
    operation_class=IDEMPOTENT_WRITE,
)
async def unassign_therapist(
    request: Request,
    client_id: FromPath[UUID],
    therapist_id: FromPath[UUID],
    conn: Db,
    caller: Authenticated,
    correlation_id: CorrelationId,
) -> Response[None]:
    await actions.care_team_members(conn, caller, client_id, therapist_id)

    async def write() -> None:
        await actions.unassign(conn, caller, client_id, therapist_id, correlation_id)

    return await idempotent_without_body(request, conn, caller, write)


ROUTES = [
    create_user,
    list_users,
    read_user,
    change_user,
    deactivate_user,
    assign_therapist,
    unassign_therapist,
    *tokens.ROUTES,
    *clinic.ROUTES,
]
