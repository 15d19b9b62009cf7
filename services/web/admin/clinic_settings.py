"""The clinic's settings, which its admins read and change as `PUT /v1/clinic/settings` does."""

import msgspec
from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from infra.access import directory
from infra.access.directory import ClinicSettings
from services.api.deps import CorrelationId, Db
from services.api.errors import Problem
from services.api.users.access import known_time_zone, require_admin
from services.api.users.clinic import ClinicSettingsBody
from services.api.writes import metadata_for
from services.web.admin.forms import as_struct, attempt, fields_of
from services.web.viewer import SignedIn, Viewer

PAGE = "/admin/settings"
SAVED = "Saved."


def _page(
    viewer: Viewer,
    shown: ClinicSettings | dict[str, str],
    *,
    note: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    values = msgspec.structs.asdict(shown) if isinstance(shown, ClinicSettings) else shown
    return Template(
        "admin/settings.html",
        context={"viewer": viewer, "values": values, "note": note, "error": error},
        status_code=status_code,
    )


@get(PAGE)
async def clinic_settings(
    conn: Db, viewer: SignedIn, note: FromQuery[str | None] = None
) -> Template:
    require_admin(viewer.caller)
    found = await directory.clinic_settings(conn, viewer.caller.clinic_id)
    return _page(viewer, found, note=SAVED if note == "saved" else None)


@post(PAGE)
async def change_settings(
    request: Request, conn: Db, viewer: SignedIn, correlation_id: CorrelationId
) -> Template | Redirect:
    require_admin(viewer.caller)
    asked = await fields_of(request)
    data = as_struct(ClinicSettingsBody, asked)
    if isinstance(data, str):
        return _page(viewer, asked, error=data, status_code=422)
    wanted = ClinicSettings(**msgspec.structs.asdict(data))
    caller = viewer.caller

    async def write() -> None:
        known_time_zone(wanted.default_time_zone, "default_time_zone")
        if wanted != await directory.clinic_settings(conn, caller.clinic_id):
            await directory.change_clinic_settings(
                conn, caller.clinic_id, wanted, metadata_for(caller, correlation_id)
            )

    done = await attempt(conn, write)
    if isinstance(done, Problem):
        return _page(viewer, asked, error=done.detail, status_code=422)
    return Redirect(f"{PAGE}?note=saved", status_code=303)


ROUTES = [clinic_settings, change_settings]
