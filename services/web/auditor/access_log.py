"""The auditor's page and the access log: who read goal data, when, and with what outcome, by
client, by person and by day, a page at a time, as `GET /v1/audit/access-log` gives it.

Like the API's audit reads, these pages are not access-logged themselves: they show no goal's
content, and a record of each look at the log would grow the log with every look."""

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from infra.access import directory
from infra.audit.access_reads import AccessFilter, audited_access
from services.api.audit.routes import require_auditor
from services.api.audit.verification_route import verify_clinic
from services.api.deps import Db
from services.api.pages import decode_cursor, encode_cursor
from services.web.auditor.verification import status_of
from services.web.viewer import SignedIn

PAGE = "/audit/access-log"
PAGE_SIZE = 50
MOST_PEOPLE = 500
UNKNOWN_GOAL = "Please enter a goal's id, as the access log shows it."


def _uuid(text: str | None) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _start_of(day: date | None) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), tzinfo=UTC)


@get("/audit")
async def auditor_home(
    request: Request,
    viewer: SignedIn,
    unknown_goal: FromQuery[str | None] = None,
    verify: FromQuery[bool] = False,
) -> Template:
    """The log's verification runs when the auditor asks for it: on a large log it takes
    seconds, and the page should not."""
    require_auditor(viewer.caller)
    status = status_of(await verify_clinic(request, viewer.caller)) if verify else None
    return Template(
        "auditor/home.html",
        context={
            "viewer": viewer,
            "error": UNKNOWN_GOAL if unknown_goal else None,
            "verification": status,
        },
    )


@get(PAGE)
async def access_log(
    conn: Db,
    viewer: SignedIn,
    *,
    client_id: FromQuery[str | None] = None,
    user_id: FromQuery[str | None] = None,
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
    cursor: FromQuery[str | None] = None,
) -> Template:
    """`since` and `until` are days (UTC), both included."""
    require_auditor(viewer.caller)
    clinic_id = viewer.caller.clinic_id
    first, last = _day(since), _day(until)
    before = None if cursor is None else int(decode_cursor(cursor, tuple[int])[0])
    wanted = AccessFilter(
        clinic_id,
        PAGE_SIZE + 1,
        _uuid(client_id),
        _uuid(user_id),
        _start_of(first),
        _start_of(None if last is None else last + timedelta(days=1)),
        before,
    )
    rows = await audited_access(conn, wanted)
    page = rows[:PAGE_SIZE]
    people = await directory.find_users(
        conn, clinic_id, role=None, search=None, active=None, after=None, limit=MOST_PEOPLE
    )
    names = {entry.user.id: entry.user.display_name for entry in people}
    filters = {
        "client_id": str(wanted.client_id or ""),
        "user_id": str(wanted.user_id or ""),
        "since": "" if first is None else first.isoformat(),
        "until": "" if last is None else last.isoformat(),
    }
    return Template(
        "auditor/access_log.html",
        context={
            "viewer": viewer,
            "records": page,
            "names": names,
            "clients": [entry.user for entry in people if entry.user.role == "client"],
            "people": [entry.user for entry in people],
            "filters": filters,
            "next_cursor": encode_cursor(page[-1].id) if len(rows) > PAGE_SIZE else None,
        },
    )


ROUTES = [auditor_home, access_log]
