"""A goal's history for the auditor: every event with who, when and why, each check-in (or the
goal) marked as entered in error shown beside the correction that marked it, exactly as
`GET /v1/goals/{id}/history` gives it (the same load for the caller, the same entries), and
access-logged as that read is."""

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Request, get
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from domain.access.policy import GoalAction
from infra.goals.queries import goal_events_page
from services.api.audit.routes import require_auditor
from services.api.audit.subject import ACCESS_LOGGED
from services.api.deps import Db
from services.api.goals.access import load_for
from services.api.goals.history import history_entries
from services.api.goals.routes import MAX_HISTORY_PAGE
from services.api.goals.schemas import HistoryEntry
from services.web.viewer import SignedIn

PAGE = "/audit/goals"


class Line(msgspec.Struct, frozen=True):
    """One event of the history in the words the page prints."""

    entry: HistoryEntry
    what: str
    who: str
    when: str
    facts: list[tuple[str, str]]


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _fact(value: object) -> str:
    if isinstance(value, dict | list):
        return msgspec.json.encode(value).decode()
    return "none" if value is None else str(value)


def line(entry: HistoryEntry) -> Line:
    actor = entry.actor
    who = f"{actor.name or 'someone no longer listed'} ({actor.role})"
    facts = [
        (name.replace("_", " "), _fact(value))
        for name, value in entry.data.items()
        if name not in {"goal_id", "client_id"}
    ]
    return Line(
        entry, entry.type.replace("_", " ").capitalize(), who, _when(entry.recorded_at), facts
    )


@get(PAGE)
async def open_goal(viewer: SignedIn, goal_id: FromQuery[str] = "") -> Redirect:
    """The form on the auditor's page names a goal by its id."""
    require_auditor(viewer.caller)
    try:
        return Redirect(f"{PAGE}/{UUID(goal_id.strip())}/history", status_code=303)
    except ValueError:
        return Redirect("/audit?unknown_goal=1", status_code=303)


@get(f"{PAGE}/{{goal_id:uuid}}/history", opt={ACCESS_LOGGED: True})
async def goal_history(
    request: Request,
    conn: Db,
    viewer: SignedIn,
    goal_id: FromPath[UUID],
    after_version: FromQuery[int] = 0,
) -> Template:
    require_auditor(viewer.caller)
    await load_for(request, goal_id, GoalAction.READ_HISTORY)
    recorded = await goal_events_page(conn, goal_id, max(after_version, 0), MAX_HISTORY_PAGE)
    entries = await history_entries(conn, recorded)
    later = entries[-1].version if len(entries) == MAX_HISTORY_PAGE else None
    return Template(
        "auditor/history.html",
        context={
            "viewer": viewer,
            "goal_id": goal_id,
            "lines": [line(entry) for entry in entries],
            "later": later,
        },
    )


ROUTES = [open_goal, goal_history]
