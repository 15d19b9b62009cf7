"""The clinic's webhook endpoints: register one (its signing secret shown this once), stop and
resume sending, rotate the secret (shown once too), and what was sent to each. The writes are
the API's own (services/api/webhooks/actions.py)."""

from uuid import UUID

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from domain.webhooks.payload import DEFAULT_FORMAT, FORMATS
from domain.webhooks.types import ALL, SUBSCRIBABLE
from infra.webhooks import endpoints, history
from services.api.deps import Db
from services.api.errors import Problem
from services.api.pages import decode_cursor, encode_cursor
from services.api.webhooks import actions
from services.api.webhooks.access import own_endpoint, require_manager
from services.api.webhooks.schemas import NewEndpoint
from services.web.admin.forms import as_struct, attempt
from services.web.viewer import SignedIn, Viewer

PAGE = "/admin/webhooks"
PAGE_SIZE = 50
NOTES = {"disabled": "Sending stopped. Events are kept, as held.", "enabled": "Sending again."}
NO_SECRET_KEPT = {"Cache-Control": "no-store"}


async def _page(
    conn: Db,
    viewer: Viewer,
    *,
    note: str | None = None,
    error: str | None = None,
    secret: str | None = None,
    asked: dict[str, object] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "admin/webhooks.html",
        context={
            "viewer": viewer,
            "endpoints": await endpoints.of_clinic(conn, viewer.caller.clinic_id),
            "types": sorted(SUBSCRIBABLE),
            "formats": FORMATS,
            "default_format": DEFAULT_FORMAT,
            "note": note,
            "error": error,
            "secret": secret,
            "asked": asked or {},
        },
        status_code=status_code,
        headers=NO_SECRET_KEPT if secret else None,
    )


@get(PAGE)
async def webhooks(conn: Db, viewer: SignedIn, note: FromQuery[str | None] = None) -> Template:
    require_manager(viewer.caller)
    return await _page(conn, viewer, note=NOTES.get(note or ""))


@post(PAGE)
async def create(request: Request, conn: Db, viewer: SignedIn) -> Template:
    require_manager(viewer.caller)
    form = await request.form()
    chosen = [str(name) for name in form.getall("event_types", [])]
    asked: dict[str, object] = {
        "url": str(form.get("url", "")).strip(),
        "event_types": [ALL] if ALL in chosen else chosen,
        "format": str(form.get("format", DEFAULT_FORMAT)),
        "description": str(form.get("description", "")).strip(),
    }
    data = as_struct(NewEndpoint, asked)
    if isinstance(data, str):
        return await _page(conn, viewer, error=data, asked=asked, status_code=422)
    wanted = data

    async def register() -> str:
        await actions.checked(request, viewer.caller, wanted)
        return (await actions.create(conn, viewer.caller, wanted)).secret

    made = await attempt(conn, register)
    if isinstance(made, Problem):
        return await _page(conn, viewer, error=made.detail, asked=asked, status_code=422)
    return await _page(conn, viewer, note="Endpoint registered.", secret=made)


@post(f"{PAGE}/{{endpoint_id:uuid}}/disable")
async def disable(conn: Db, viewer: SignedIn, endpoint_id: FromPath[UUID]) -> Redirect:
    await actions.stop_sending(conn, viewer.caller, endpoint_id)
    return Redirect(f"{PAGE}?note=disabled#endpoint-{endpoint_id}", status_code=303)


@post(f"{PAGE}/{{endpoint_id:uuid}}/enable")
async def enable(conn: Db, viewer: SignedIn, endpoint_id: FromPath[UUID]) -> Redirect:
    await actions.send_again(conn, viewer.caller, endpoint_id)
    return Redirect(f"{PAGE}?note=enabled#endpoint-{endpoint_id}", status_code=303)


@post(f"{PAGE}/{{endpoint_id:uuid}}/rotate-secret")
async def rotate(conn: Db, viewer: SignedIn, endpoint_id: FromPath[UUID]) -> Template:
    secret, expires = await actions.rotate(conn, viewer.caller, endpoint_id)
    note = (
        f"New secret made. The old one keeps signing beside it until {expires:%Y-%m-%d %H:%M} UTC."
    )
    return await _page(conn, viewer, note=note, secret=secret)


@get(f"{PAGE}/{{endpoint_id:uuid}}/deliveries")
async def deliveries(
    conn: Db, viewer: SignedIn, endpoint_id: FromPath[UUID], cursor: FromQuery[str | None] = None
) -> Template:
    endpoint = await own_endpoint(conn, viewer.caller, endpoint_id)
    after = 0 if cursor is None else decode_cursor(cursor, tuple[int])[0]
    found = await history.deliveries(
        conn, viewer.caller.clinic_id, endpoint_id, after_sequence=after, limit=PAGE_SIZE + 1
    )
    page = found[:PAGE_SIZE]
    return Template(
        "admin/deliveries.html",
        context={
            "viewer": viewer,
            "endpoint": endpoint,
            "deliveries": page,
            "next_cursor": encode_cursor(page[-1].sequence) if len(found) > PAGE_SIZE else None,
        },
    )


ROUTES = [webhooks, create, disable, enable, rotate, deliveries]
