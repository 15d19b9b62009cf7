"""Who has looked at my goals: the client's accounting of disclosures (`GET
/v1/me/access-log`'s data), each read by a person or delivery to a receiver, newest first, in
words. It names the client's goals, so reading it is access-logged as any goal read."""

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from infra.audit.access_reads import Disclosure, DisclosureFilter, disclosures_to
from infra.projections import reads
from services.api.audit.subject import ACCESS_LOGGED, note_reach
from services.api.deps import Db
from services.api.pages import DEFAULT_PAGE_SIZE, decode_cursor, encode_cursor
from services.web.viewer import SignedIn

PAGE = "/my/access-log"
_ROLE_WORDS = {
    "client": "you",
    "therapist": "therapist",
    "supporter": "partner",
    "auditor": "auditor",
    "integration": "connected system",
    "admin": "administrator",
}


class Look(msgspec.Struct, frozen=True):
    when_text: str
    when: datetime
    who: str
    how: str
    goals: list[str]


def _look(disclosure: Disclosure, me: UUID, statements: dict[UUID, str]) -> Look:
    if disclosure.kind == "webhook_delivery":
        who = f"A connected system of your clinic ({disclosure.recipient})"
        how = "sent an update"
    elif disclosure.user_id == me:
        who, how = "You", "looked"
    else:
        role = _ROLE_WORDS.get(disclosure.role or "", disclosure.role or "someone")
        who = f"{disclosure.display_name or 'Someone'} ({role})"
        how = "looked in the app" if not (disclosure.route or "").startswith("/v1/") else "looked"
    goals = [statements.get(goal_id, "a goal no longer shown") for goal_id in disclosure.goal_ids]
    return Look(f"{disclosure.at:%-d %B %Y, %H:%M} UTC", disclosure.at, who, how, goals)


@get(PAGE, opt={ACCESS_LOGGED: True})
async def access_log(
    request: Request, conn: Db, viewer: SignedIn, cursor: FromQuery[str | None] = None
) -> Template | Redirect:
    caller = viewer.caller
    if caller.role != "client":
        return Redirect(viewer.landing, status_code=303)
    before = None if cursor is None else decode_cursor(cursor, tuple[datetime, str])
    wanted = DisclosureFilter(
        caller.clinic_id, caller.user_id, DEFAULT_PAGE_SIZE + 1, before=before
    )
    found = await disclosures_to(conn, wanted)
    page = found[:DEFAULT_PAGE_SIZE]
    summaries = await reads.summaries_of_clients(conn, [caller.user_id])
    statements = {summary.goal_id: summary.terms.statement for summary in summaries.goals}
    named = {goal_id for disclosure in page for goal_id in disclosure.goal_ids}
    note_reach(request, clients=(caller.user_id,), goals=sorted(named & statements.keys()))
    older = None
    if len(found) > DEFAULT_PAGE_SIZE:
        older = encode_cursor(page[-1].at, page[-1].key)
    return Template(
        "client/access_log.html",
        context={
            "viewer": viewer,
            "looks": [_look(item, caller.user_id, statements) for item in page],
            "older": older,
        },
    )


ROUTES = [access_log]
