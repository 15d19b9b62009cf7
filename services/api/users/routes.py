"""Users, their tokens, and who is on a client's care team. Admins manage; nobody else does,
except that a user may see themself and manage their own tokens."""

import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from domain.access.policy import Caller
from domain.goals.rules import check_time_zone
from infra.access import identity, queries
from infra.access.queries import User
from infra.db.connection import Connection
from services.api.deps import AppSettings, Authenticated, CorrelationId, Db
from services.api.errors import FieldError, Problem, forbidden, not_found, problem_responses
from services.api.users.schemas import Assignment, NewToken, NewUser, TokenOut, UserOut
from services.api.writes import IDEMPOTENT_WRITE, Reply, idempotent, metadata_for, reply


def _user_out(user: User) -> UserOut:
    return UserOut(**msgspec.structs.asdict(user))


def _require_admin(caller: Caller) -> None:
    if caller.role != "admin":
        raise forbidden()


async def _visible_user(conn: Connection, caller: Caller, user_id: UUID) -> User:
    """The user if the caller manages them (admin) or is them; else they do not exist."""
    if caller.role != "admin" and caller.user_id != user_id:
        raise not_found("user")
    user = await queries.user_in_clinic(conn, caller.clinic_id, user_id)
    if user is None:
        raise not_found("user")
    return user


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
    _require_admin(caller)
    try:
        check_time_zone(data.time_zone)
    except Exception as error:
        raise Problem(
            422,
            "unknown_time_zone",
            f"{data.time_zone!r} is not a known IANA time zone.",
            errors=[FieldError("time_zone", "unknown IANA time zone")],
        ) from error

    async def produce() -> Reply:
        user = User(
            uuid.uuid4(),
            caller.clinic_id,
            data.role,
            data.display_name,
            data.email.lower(),
            data.time_zone,
            datetime.now(UTC),
        )
        try:
            await identity.register_user(conn, user, metadata_for(caller, correlation_id))
        except identity.EmailTaken:
            raise Problem(
                409, "email_taken", "This clinic already has a user with this email."
            ) from None
        return reply(201, _user_out(user))

    return await idempotent(request, conn, caller, produce)


@get(
    "/v1/users/{user_id:uuid}",
    summary="A user's profile (admins, or the user)",
    responses=problem_responses(400, 401, 404),
)
async def read_user(user_id: FromPath[UUID], conn: Db, caller: Authenticated) -> UserOut:
    return _user_out(await _visible_user(conn, caller, user_id))


@post(
    "/v1/users/{user_id:uuid}/tokens",
    summary="Issue an access token (shown once)",
    responses={
        201: ResponseSpec(
            data_container=TokenOut,
            description="The token; `token` itself only in the first response",
            generate_examples=False,
        ),
        **problem_responses(400, 401, 404, 413, 422),
    },
    operation_class=IDEMPOTENT_WRITE,
)
async def create_token(
    request: Request,
    user_id: FromPath[UUID],
    conn: Db,
    caller: Authenticated,
    correlation_id: CorrelationId,
    settings: AppSettings,
    data: JSONBody[NewToken | None] = None,
) -> Response[bytes]:
    user = await _visible_user(conn, caller, user_id)
    lifetime = timedelta(days=(data or NewToken()).expires_in_days)

    async def produce() -> Reply:
        issued = await identity.issue_token(
            conn,
            token_id=uuid.uuid4(),
            user_id=user.id,
            lifetime=lifetime,
            hash_key=settings.token_hash_key,
            metadata=metadata_for(caller, correlation_id),
        )
        token = issued.token
        return reply(201, TokenOut(token.id, token.user_id, token.expires_at, issued.secret))

    def without_secret(result: Reply) -> Reply:
        shown = msgspec.json.decode(result.body, type=TokenOut)
        return reply(result.status_code, msgspec.structs.replace(shown, token=None))

    return await idempotent(request, conn, caller, produce, kept_as=without_secret)


@delete(
    "/v1/tokens/{token_id:uuid}",
    summary="Revoke a token (admins, or its owner)",
    responses=problem_responses(400, 401, 404),
)
async def revoke_token(
    token_id: FromPath[UUID], conn: Db, caller: Authenticated, correlation_id: CorrelationId
) -> None:
    owner = await queries.token_owner(conn, token_id, caller.clinic_id)
    if owner is None or (caller.role != "admin" and owner != caller.user_id):
        raise not_found("token")
    await identity.revoke_token(conn, token_id, owner, metadata_for(caller, correlation_id))


async def _care_team_members(
    conn: Connection, caller: Caller, client_id: UUID, therapist_id: UUID
) -> None:
    _require_admin(caller)
    client = await queries.user_in_clinic(conn, caller.clinic_id, client_id)
    therapist = await queries.user_in_clinic(conn, caller.clinic_id, therapist_id)
    if client is None or therapist is None:
        raise not_found("user")
    if client.role != "client":
        raise Problem(422, "not_a_client", "Only clients have a care team.")
    if therapist.role != "therapist":
        raise Problem(422, "not_a_therapist", "Only therapists join a care team.")


@put(
    "/v1/clients/{client_id:uuid}/therapists/{therapist_id:uuid}",
    summary="Put a therapist on a client's care team (admins)",
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def assign_therapist(
    client_id: FromPath[UUID],
    therapist_id: FromPath[UUID],
    conn: Db,
    caller: Authenticated,
    correlation_id: CorrelationId,
) -> Assignment:
    await _care_team_members(conn, caller, client_id, therapist_id)
    await identity.assign_therapist(
        conn, client_id, therapist_id, metadata_for(caller, correlation_id)
    )
    return Assignment(client_id, therapist_id)


@delete(
    "/v1/clients/{client_id:uuid}/therapists/{therapist_id:uuid}",
    summary="Take a therapist off a client's care team (admins)",
    status_code=HTTP_204_NO_CONTENT,
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def unassign_therapist(
    client_id: FromPath[UUID],
    therapist_id: FromPath[UUID],
    conn: Db,
    caller: Authenticated,
    correlation_id: CorrelationId,
) -> None:
    await _care_team_members(conn, caller, client_id, therapist_id)
    removed = await identity.unassign_therapist(
        conn, client_id, therapist_id, metadata_for(caller, correlation_id)
    )
    if not removed:
        raise not_found("care team assignment")


ROUTES = [create_user, read_user, create_token, revoke_token, assign_therapist, unassign_therapist]
