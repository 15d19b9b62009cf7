"""A client's nudges: the inbox (`GET /v1/me/nudges`'s data, newest first), one nudge (where a
nudge e-mail's link leads), and marking one read (`POST /v1/me/nudges/{id}/read`)."""

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from infra.nudges import inbox
from infra.nudges.inbox import InboxNudge
from services.api.deps import Db
from services.api.errors import not_found
from services.api.pages import DEFAULT_PAGE_SIZE, decode_cursor, encode_cursor
from services.web.viewer import SignedIn

INBOX = "/nudges"
_KIND_WORDS = {
    "check_in_reminder": "A reminder",
    "due_soon": "Coming up",
    "overdue": "Past its date",
    "celebration": "Something to celebrate",
    "after_miss": "After a goal that did not work out",
    "overload": "A thought about your goals",
    "encouragement": "Encouragement from your partner",
}


class NudgeItem(msgspec.Struct, frozen=True):
    nudge_id: UUID
    heading: str
    message: str
    sent_text: str
    unread: bool
    goal_href: str | None


def nudge_item(nudge: InboxNudge) -> NudgeItem:
    return NudgeItem(
        nudge_id=nudge.id,
        heading=_KIND_WORDS.get(nudge.kind, "A note"),
        message=nudge.message,
        sent_text=f"{nudge.sent_at:%-d %B %Y, %H:%M} UTC",
        unread=nudge.read_at is None,
        goal_href=None if nudge.goal_id is None else f"/my/goals/{nudge.goal_id}",
    )


@get(INBOX)
async def nudges(conn: Db, viewer: SignedIn, cursor: FromQuery[str | None] = None) -> Template:
    caller = viewer.caller
    before = None if cursor is None else decode_cursor(cursor, tuple[datetime, UUID])
    found = await inbox.newest(
        conn, caller.user_id, caller.clinic_id, before=before, limit=DEFAULT_PAGE_SIZE + 1
    )
    page = found[:DEFAULT_PAGE_SIZE]
    older = None
    if len(found) > DEFAULT_PAGE_SIZE:
        older = encode_cursor(page[-1].sent_at.isoformat(), str(page[-1].id))
    return Template(
        "client/nudges.html",
        context={"viewer": viewer, "items": [nudge_item(nudge) for nudge in page], "older": older},
    )


@get(f"{INBOX}/{{nudge_id:uuid}}")
async def nudge(nudge_id: FromPath[UUID], conn: Db, viewer: SignedIn) -> Template:
    caller = viewer.caller
    found = await inbox.one(conn, caller.user_id, caller.clinic_id, nudge_id)
    if found is None:
        raise not_found("nudge")
    return Template("client/nudge.html", context={"viewer": viewer, "item": nudge_item(found)})


@post(f"{INBOX}/{{nudge_id:uuid}}/read")
async def mark_read(nudge_id: FromPath[UUID], conn: Db, viewer: SignedIn) -> Redirect:
    caller = viewer.caller
    marked = await inbox.mark_read(conn, caller.user_id, caller.clinic_id, nudge_id)
    if marked is None and await inbox.one(conn, caller.user_id, caller.clinic_id, nudge_id) is None:
        raise not_found("nudge")
    return Redirect(f"{INBOX}#nudge-{nudge_id}", status_code=303)


ROUTES = [nudges, nudge, mark_read]
