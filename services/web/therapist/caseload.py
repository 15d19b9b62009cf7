"""The therapist's caseload: their clients with the flags that say who needs attention, sorted
by flags or by name, a page at a time through plain links (no JavaScript needed).

It reads exactly what `GET /v1/caseload` answers (`caseload_of`), access-logged the same way.
"""

from urllib.parse import urlencode

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from services.api.audit.subject import ACCESS_LOGGED
from services.api.deps import Db
from services.api.progress.caseload import CaseloadOrder, caseload_of
from services.web.therapist.words import caseload_row
from services.web.viewer import SignedIn

PAGE = "/caseload"
PAGE_SIZE = 25
_SORTS: dict[CaseloadOrder, str] = {"flags": "Needs attention first", "name": "Name"}


def page_link(sort: CaseloadOrder, cursor: str | None = None) -> str:
    query: dict[str, str] = {"sort": sort}
    if cursor is not None:
        query["cursor"] = cursor
    return f"{PAGE}?{urlencode(query)}"


@get(PAGE, opt={ACCESS_LOGGED: True})
async def caseload_page(
    request: Request,
    conn: Db,
    viewer: SignedIn,
    sort: FromQuery[CaseloadOrder] = "flags",
    cursor: FromQuery[str | None] = None,
) -> Template | Redirect:
    if viewer.caller.role != "therapist":
        return Redirect(viewer.landing, status_code=303)
    found = await caseload_of(
        request, conn, viewer.caller, sort=sort, limit=PAGE_SIZE, cursor=cursor
    )
    return Template(
        "therapist/caseload.html",
        context={
            "viewer": viewer,
            "rows": [caseload_row(entry) for entry in found.clients],
            "sorts": [(key, words, page_link(key), key == sort) for key, words in _SORTS.items()],
            "next_page": None if found.next_cursor is None else page_link(sort, found.next_cursor),
            "first_page": None if cursor is None else page_link(sort),
            "stale": found.projected.stale,
        },
    )


ROUTES = [caseload_page]
