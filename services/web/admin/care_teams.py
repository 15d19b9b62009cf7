"""Care teams: which therapists look after which clients. The admin puts a therapist on a
client's team or takes them off, as `PUT`/`DELETE /v1/clients/{id}/therapists/{id}` do."""

from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from infra.access import directory, queries
from infra.access.directory import DirectoryEntry
from services.api.deps import CorrelationId, Db
from services.api.errors import Problem
from services.api.pages import decode_cursor, encode_cursor
from services.api.users import actions
from services.api.users.access import require_admin
from services.web.admin.forms import attempt, fields_of
from services.web.viewer import SignedIn, Viewer

PAGE = "/admin/care-teams"
PAGE_SIZE = 25
MOST_THERAPISTS = 500
NOTES = {"assigned": "Added to the care team.", "unassigned": "Taken off the care team."}
CHOOSE_BOTH = "Please choose a client and a therapist."


class Team(msgspec.Struct, frozen=True):
    client: DirectoryEntry
    therapists: list[DirectoryEntry]


async def _page(
    conn: Db,
    viewer: Viewer,
    cursor: str | None,
    *,
    note: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    clinic_id = viewer.caller.clinic_id
    after = None if cursor is None else decode_cursor(cursor, tuple[str, UUID])
    clients = await directory.find_users(
        conn, clinic_id, role="client", search=None, active=True, after=after, limit=PAGE_SIZE + 1
    )
    therapists = await directory.find_users(
        conn,
        clinic_id,
        role="therapist",
        search=None,
        active=None,
        after=None,
        limit=MOST_THERAPISTS,
    )
    by_id = {entry.user.id: entry for entry in therapists}
    teams = []
    for client in clients[:PAGE_SIZE]:
        care = await queries.care_of_client(conn, clinic_id, client.user.id)
        members = [] if care is None else [by_id[t] for t in care.therapists if t in by_id]
        teams.append(Team(client, members))
    last = clients[PAGE_SIZE - 1].user if len(clients) > PAGE_SIZE else None
    return Template(
        "admin/care_teams.html",
        context={
            "viewer": viewer,
            "teams": teams,
            "therapists": [entry for entry in therapists if entry.deactivated_at is None],
            "next_cursor": None if last is None else encode_cursor(last.display_name, str(last.id)),
            "note": note,
            "error": error,
        },
        status_code=status_code,
    )


@get(PAGE)
async def care_teams(
    conn: Db,
    viewer: SignedIn,
    cursor: FromQuery[str | None] = None,
    note: FromQuery[str | None] = None,
) -> Template:
    require_admin(viewer.caller)
    return await _page(conn, viewer, cursor, note=NOTES.get(note or ""))


async def _members(request: Request) -> tuple[UUID, UUID] | None:
    fields = await fields_of(request)
    try:
        return UUID(fields.get("client_id", "")), UUID(fields.get("therapist_id", ""))
    except ValueError:
        return None


async def _change(
    request: Request, conn: Db, viewer: Viewer, correlation_id: str, *, joining: bool
) -> Template | Redirect:
    require_admin(viewer.caller)
    members = await _members(request)
    if members is None:
        return await _page(conn, viewer, None, error=CHOOSE_BOTH, status_code=422)
    client_id, therapist_id = members
    change = actions.assign if joining else actions.unassign

    async def write() -> None:
        await actions.care_team_members(conn, viewer.caller, client_id, therapist_id)
        await change(conn, viewer.caller, client_id, therapist_id, correlation_id)

    done = await attempt(conn, write)
    if isinstance(done, Problem):
        return await _page(conn, viewer, None, error=done.detail, status_code=422)
    note = "assigned" if joining else "unassigned"
    return Redirect(f"{PAGE}?note={note}#client-{client_id}", status_code=303)


@post(f"{PAGE}/assignment")
async def assign(
    request: Request, conn: Db, viewer: SignedIn, correlation_id: CorrelationId
) -> Template | Redirect:
    return await _change(request, conn, viewer, correlation_id, joining=True)


@post(f"{PAGE}/unassignment")
async def unassign(
    request: Request, conn: Db, viewer: SignedIn, correlation_id: CorrelationId
) -> Template | Redirect:
    return await _change(request, conn, viewer, correlation_id, joining=False)


ROUTES = [care_teams, assign, unassign]
