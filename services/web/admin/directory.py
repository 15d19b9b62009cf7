"""The admin's user directory: find people, invite someone new (the invitation goes out by
e-mail, through the outbox), change a person's details, invite them again, deactivate them.

Every write is the API's own (services/api/users/actions.py), under the API's rules, and leaves
its event with the admin as its actor, as the audit's admin actions show.
"""

from typing import get_args
from uuid import UUID

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from domain.goals.terms import Role
from infra.access import directory
from infra.access.directory import DirectoryEntry
from services.api.deps import AppSettings, CorrelationId, Db
from services.api.errors import Problem
from services.api.pages import decode_cursor, encode_cursor
from services.api.users import actions
from services.api.users.access import require_admin, visible_user
from services.api.users.schemas import InvitationOut, NewUser, UserChanges
from services.web.admin.forms import as_struct, attempt, fields_of
from services.web.viewer import SignedIn, Viewer

PAGE = "/admin/users"
PAGE_SIZE = 25
ROLES: dict[str, Role] = {role: role for role in get_args(Role)}
NOTES = {
    "invited": "Invitation sent. It reaches them by e-mail.",
    "changed": "Saved.",
    "deactivated": "Deactivated. Their sessions and tokens have stopped working.",
}


def _user_page(
    viewer: Viewer,
    entry: DirectoryEntry,
    *,
    note: str | None = None,
    error: str | None = None,
    code: str | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "admin/user.html",
        context={
            "viewer": viewer,
            "entry": entry,
            "note": note,
            "error": error,
            "code": code,
        },
        status_code=status_code,
    )


@get(PAGE)
async def users(
    conn: Db,
    viewer: SignedIn,
    *,
    search: FromQuery[str | None] = None,
    role: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
    note: FromQuery[str | None] = None,
) -> Template:
    require_admin(viewer.caller)
    return await _directory(conn, viewer, search, role, cursor, note=NOTES.get(note or ""))


async def _directory(
    conn: Db,
    viewer: Viewer,
    search: str | None,
    role: str | None,
    cursor: str | None,
    *,
    note: str | None = None,
    error: str | None = None,
    asked: dict[str, str] | None = None,
    code: str | None = None,
    status_code: int = 200,
) -> Template:
    after = None if cursor is None else decode_cursor(cursor, tuple[str, UUID])
    found = await directory.find_users(
        conn,
        viewer.caller.clinic_id,
        role=ROLES.get(role or ""),
        search=(search or "")[:100] or None,
        active=None,
        after=after,
        limit=PAGE_SIZE + 1,
    )
    page = found[:PAGE_SIZE]
    more = len(found) > PAGE_SIZE
    next_cursor = encode_cursor(page[-1].user.display_name, str(page[-1].user.id)) if more else None
    return Template(
        "admin/users.html",
        context={
            "viewer": viewer,
            "entries": page,
            "roles": ROLES,
            "search": search or "",
            "role": role or "",
            "next_cursor": next_cursor,
            "note": note,
            "error": error,
            "asked": asked or {},
            "code": code,
        },
        status_code=status_code,
    )


async def _invite(
    conn: Db, viewer: Viewer, entry: DirectoryEntry, settings: AppSettings, correlation_id: str
) -> InvitationOut | Problem:
    return await attempt(
        conn, lambda: actions.invite(conn, viewer.caller, entry, settings, correlation_id)
    )


@post(PAGE)
async def invite_someone(
    request: Request,
    conn: Db,
    viewer: SignedIn,
    settings: AppSettings,
    correlation_id: CorrelationId,
) -> Template | Redirect:
    """Registers the person and invites them, both or neither."""
    require_admin(viewer.caller)
    asked = await fields_of(request)
    data = as_struct(NewUser, asked)
    if isinstance(data, str):
        return await _directory(
            conn, viewer, None, None, None, error=data, asked=asked, status_code=422
        )

    async def register_and_invite() -> InvitationOut:
        user = await actions.register(conn, viewer.caller, data, correlation_id)
        entry = DirectoryEntry(user, None)
        return await actions.invite(conn, viewer.caller, entry, settings, correlation_id)

    invited = await attempt(conn, register_and_invite)
    if isinstance(invited, Problem):
        return await _directory(
            conn, viewer, None, None, None, error=invited.detail, asked=asked, status_code=422
        )
    if invited.code is not None:  # e-mail is off: the code is shown this once, as the API does
        return await _directory(conn, viewer, None, None, None, code=invited.code)
    return Redirect(f"{PAGE}?note=invited", status_code=303)


@get(f"{PAGE}/{{user_id:uuid}}")
async def user(
    conn: Db, viewer: SignedIn, user_id: FromPath[UUID], note: FromQuery[str | None] = None
) -> Template:
    require_admin(viewer.caller)
    entry = await visible_user(conn, viewer.caller, user_id)
    return _user_page(viewer, entry, note=NOTES.get(note or ""))


@post(f"{PAGE}/{{user_id:uuid}}")
async def change_user(
    request: Request,
    conn: Db,
    viewer: SignedIn,
    user_id: FromPath[UUID],
    correlation_id: CorrelationId,
) -> Template | Redirect:
    require_admin(viewer.caller)
    entry = await visible_user(conn, viewer.caller, user_id)
    data = as_struct(UserChanges, await fields_of(request))
    if isinstance(data, str):
        return _user_page(viewer, entry, error=data, status_code=422)
    changes = data
    changed = await attempt(
        conn, lambda: actions.change(conn, viewer.caller, entry, changes, correlation_id)
    )
    if isinstance(changed, Problem):
        return _user_page(viewer, entry, error=changed.detail, status_code=422)
    return Redirect(f"{PAGE}/{user_id}?note=changed", status_code=303)


@post(f"{PAGE}/{{user_id:uuid}}/invitation")
async def invite_again(
    conn: Db,
    viewer: SignedIn,
    user_id: FromPath[UUID],
    settings: AppSettings,
    correlation_id: CorrelationId,
) -> Template | Redirect:
    require_admin(viewer.caller)
    entry = await visible_user(conn, viewer.caller, user_id)
    invited = await _invite(conn, viewer, entry, settings, correlation_id)
    if isinstance(invited, Problem):
        return _user_page(viewer, entry, error=invited.detail, status_code=422)
    if invited.code is not None:
        return _user_page(viewer, entry, code=invited.code)
    return Redirect(f"{PAGE}/{user_id}?note=invited", status_code=303)


@post(f"{PAGE}/{{user_id:uuid}}/deactivation")
async def deactivate(
    conn: Db, viewer: SignedIn, user_id: FromPath[UUID], correlation_id: CorrelationId
) -> Template | Redirect:
    require_admin(viewer.caller)
    entry = await visible_user(conn, viewer.caller, user_id)
    if entry.deactivated_at is None:
        done = await attempt(
            conn, lambda: actions.deactivate(conn, viewer.caller, entry, correlation_id)
        )
        if isinstance(done, Problem):
            return _user_page(viewer, entry, error=done.detail, status_code=422)
    return Redirect(f"{PAGE}/{user_id}?note=deactivated", status_code=303)


ROUTES = [users, invite_someone, user, change_user, invite_again, deactivate]
