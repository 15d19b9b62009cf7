"""Tokens and invitations. A person's token is only ever theirs: they mint more from one they
hold, or redeem an invitation for their first; an admin invites, and never holds another
person's credential. Revoking a token revokes every token minted from it."""

import uuid
from datetime import datetime, timedelta
from uuid import UUID

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody

from infra.access import credential_rows, identity, invitations
from infra.access.credential_rows import TokenRecord
from services.api.deps import AppSettings, Authenticated, CorrelationId, Db
from services.api.errors import Problem, forbidden, not_found, problem_responses
from services.api.pages import DEFAULT_PAGE_SIZE, Cursor, PageSize, decode_cursor, encode_cursor
from services.api.users import actions
from services.api.users.access import require_admin, visible_user
from services.api.users.schemas import (
    InvitationOut,
    NewToken,
    Redemption,
    RevokedTokens,
    TokenInfo,
    TokenOut,
    TokenPage,
)
from services.api.writes import (
    IDEMPOTENT_WRITE,
    Reply,
    idempotent,
    idempotent_without_body,
    metadata_for,
    reply,
)


def _token_info(token: TokenRecord) -> TokenInfo:
    return TokenInfo(
        token_id=token.id,
        user_id=token.user_id,
        parent_id=token.parent_id,
        issued_by=token.issued_by,
        invitation_id=token.invitation_id,
        created_at=token.created_at,
        expires_at=token.expires_at,
        revoked_at=token.revoked_at,
    )


@post(
    "/v1/users/{user_id:uuid}/tokens",
    summary="Mint a token from the one you call with (your own only; shown once)",
    responses={
        201: ResponseSpec(
            data_container=TokenOut,
            description="The token; `token` itself only in the first response",
            generate_examples=False,
        ),
        **problem_responses(400, 401, 403, 404, 413, 422),
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
    """The new token is a child of the caller's: it expires no later than it, nor than the
    clinic's longest token lifetime, and revoking the caller's token revokes it too."""
    await visible_user(conn, caller, user_id)
    if caller.user_id != user_id:
        raise Problem(
            403,
            "forbidden",
            "Nobody holds another person's token: invite them instead "
            f"(POST /v1/users/{user_id}/invitations).",
        )
    if caller.token_id is None:
        raise forbidden()
    lifetime = timedelta(days=(data or NewToken()).expires_in_days)

    async def produce() -> Reply:
        try:
            issued = await identity.issue_token(
                conn,
                token_id=uuid.uuid4(),
                user_id=user_id,
                lifetime=lifetime,
                hash_key=settings.token_hash_key,
                metadata=metadata_for(caller, correlation_id),
                parent_id=caller.token_id,
                issued_by=caller.user_id,
            )
        except credential_rows.ParentTooDeep:
            raise Problem(
                422,
                "token_chain_too_deep",
                f"A token may descend from at most {credential_rows.MAX_GENERATIONS} others; "
                "redeem a new invitation for a fresh one.",
            ) from None
        token = issued.token
        return reply(201, TokenOut(token.id, token.user_id, token.expires_at, issued.secret))

    def without_secret(result: Reply) -> Reply:
        shown = msgspec.json.decode(result.body, type=TokenOut)
        return reply(result.status_code, msgspec.structs.replace(shown, token=None))

    return await idempotent(request, conn, caller, produce, kept_as=without_secret)


@get(
    "/v1/users/{user_id:uuid}/tokens",
    summary="A user's tokens, newest first, without secrets (admins, or the user)",
    responses=problem_responses(400, 401, 404, 422),
)
async def list_tokens(
    user_id: FromPath[UUID],
    conn: Db,
    caller: Authenticated,
    cursor: Cursor = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
) -> TokenPage:
    await visible_user(conn, caller, user_id)
    after = None if cursor is None else decode_cursor(cursor, tuple[datetime, UUID])
    found = await credential_rows.tokens_of(conn, user_id, after, limit + 1)
    page = found[:limit]
    next_cursor = None
    if len(found) > limit:
        next_cursor = encode_cursor(page[-1].created_at, str(page[-1].id))
    return TokenPage([_token_info(token) for token in page], next_cursor)


@delete(
    "/v1/users/{user_id:uuid}/tokens",
    summary="Revoke all of a user's tokens and pending invitations (admins, or the user)",
    status_code=200,
    responses={
        200: ResponseSpec(
            data_container=RevokedTokens,
            description="The tokens this request revoked",
            generate_examples=False,
        ),
        **problem_responses(400, 401, 404),
    },
    operation_class=IDEMPOTENT_WRITE,
)
async def revoke_all_tokens(
    request: Request,
    user_id: FromPath[UUID],
    conn: Db,
    caller: Authenticated,
    correlation_id: CorrelationId,
) -> Response[bytes]:
    await visible_user(conn, caller, user_id)

    async def produce() -> Reply:
        metadata = metadata_for(caller, correlation_id)
        return reply(200, RevokedTokens(await identity.revoke_all_tokens(conn, user_id, metadata)))

    return await idempotent(request, conn, caller, produce)


@delete(
    "/v1/tokens/{token_id:uuid}",
    summary="Revoke a token and every token minted from it (admins, or its owner)",
    responses=problem_responses(400, 401, 404),
    operation_class=IDEMPOTENT_WRITE,
)
async def revoke_token(
    request: Request,
    token_id: FromPath[UUID],
    conn: Db,
    caller: Authenticated,
    correlation_id: CorrelationId,
) -> Response[None]:
    owner = await credential_rows.token_owner(conn, token_id, caller.clinic_id)
    if owner is None or (caller.role != "admin" and owner != caller.user_id):
        raise not_found("token")

    async def write() -> None:
        metadata = metadata_for(caller, correlation_id)
        if token_id not in await identity.revoke_token(conn, token_id, owner, metadata):
            raise not_found("token")  # revoked already: there is no such live token

    return await idempotent_without_body(request, conn, caller, write)


@post(
    "/v1/users/{user_id:uuid}/invitations",
    summary="Invite a user to redeem a code for their own token (admins)",
    responses={
        201: ResponseSpec(
            data_container=InvitationOut,
            description="The invitation; its `code` only while e-mail is off",
            generate_examples=False,
        ),
        **problem_responses(400, 401, 403, 404, 409, 422),
    },
    operation_class=IDEMPOTENT_WRITE,
)
async def invite_user(
    request: Request,
    user_id: FromPath[UUID],
    conn: Db,
    caller: Authenticated,
    correlation_id: CorrelationId,
    settings: AppSettings,
) -> Response[bytes]:
    require_admin(caller)
    found = await visible_user(conn, caller, user_id)
    if found.deactivated_at is not None:
        raise Problem(409, "user_deactivated", "A deactivated user cannot be invited.")

    async def produce() -> Reply:
        return reply(201, await actions.invite(conn, caller, found, settings, correlation_id))

    def without_code(result: Reply) -> Reply:
        shown = msgspec.json.decode(result.body, type=InvitationOut)
        return reply(result.status_code, msgspec.structs.replace(shown, code=None))

    return await idempotent(request, conn, caller, produce, kept_as=without_code)


@post(
    "/v1/invitations/redemption",
    summary="Redeem an invitation's code for your own token (no token needed; shown once)",
    security=[],
    responses={
        201: ResponseSpec(
            data_container=TokenOut, description="Your new token", generate_examples=False
        ),
        **problem_responses(400, 413, 422),
    },
)
async def redeem_invitation(
    data: JSONBody[Redemption],
    conn: Db,
    correlation_id: CorrelationId,
    settings: AppSettings,
) -> Response[bytes]:
    redeemed = await invitations.redeem(
        conn,
        data.code,
        lifetime=timedelta(days=data.expires_in_days),
        hash_key=settings.token_hash_key,
        correlation_id=correlation_id,
    )
    if redeemed is None:
        raise Problem(
            400,
            "invalid_invitation",
            "This invitation code is unknown, used, withdrawn or expired: ask for a new one.",
        )
    token = redeemed.token.token
    shown = TokenOut(token.id, token.user_id, token.expires_at, redeemed.token.secret)
    return reply_response(shown)


def reply_response(shown: TokenOut) -> Response[bytes]:
    return Response(
        msgspec.json.encode(shown),
        status_code=201,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


ROUTES = [
    create_token,
    list_tokens,
    revoke_all_tokens,
    revoke_token,
    invite_user,
    redeem_invitation,
]
