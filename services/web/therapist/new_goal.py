"""Setting a goal with a client, for a therapist in their care team: the client's guided form,
sent through `set_new_goal` for that client, the one path `POST /v1/goals` takes.

A client outside the therapist's care team is refused as if they did not exist (404), by the
API's own `readable_client`, before the form is read; the rules' refusals are shown next to the
field they name, with nothing written.
"""

from uuid import UUID

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from domain.goals.errors import GoalRuleViolation
from infra.db.connection import Connection
from services.api.audit.subject import ACCESS_LOGGED
from services.api.deps import ONE_STATEMENT_WRITES, Db
from services.api.goals.access import readable_client
from services.api.goals.setting import set_new_goal
from services.web.goal_form import asked, fresh_typed, options, overload_words, typed_in
from services.web.therapist.client import client_name, client_page, new_goal_page
from services.web.viewer import SignedIn, Viewer

NEW_WITH_CLIENT = "/caseload/clients/{client_id:uuid}/goals/new"


async def _form(
    conn: Connection,
    viewer: Viewer,
    client_id: UUID,
    typed: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
) -> Template:
    return Template(
        "therapist/new_goal.html",
        context={
            "viewer": viewer,
            "client_name": await client_name(conn, client_id),
            "client_url": client_page(client_id),
            "action": new_goal_page(client_id),
            "typed": typed,
            "errors": errors or {},
            "replaces": None,
            "pace": None,
            "warning": await overload_words(conn, viewer.caller.clinic_id, client_id),
            **options(),
        },
        status_code=422 if errors else 200,
    )


@get(NEW_WITH_CLIENT, opt={ACCESS_LOGGED: True})
async def new_goal_with_client(
    request: Request, client_id: FromPath[UUID], conn: Db, viewer: SignedIn
) -> Template | Redirect:
    if viewer.caller.role != "therapist":
        return Redirect(viewer.landing, status_code=303)
    await readable_client(request, conn, viewer.caller, client_id)
    return await _form(conn, viewer, client_id, fresh_typed())


@post(NEW_WITH_CLIENT, opt={ACCESS_LOGGED: True, ONE_STATEMENT_WRITES: True})
async def set_goal_with_client(
    request: Request, client_id: FromPath[UUID], conn: Db, viewer: SignedIn
) -> Template | Redirect:
    if viewer.caller.role != "therapist":
        return Redirect(viewer.landing, status_code=303)
    await readable_client(request, conn, viewer.caller, client_id)
    typed = await typed_in(request)
    goal = asked(typed, client_id=client_id)
    if isinstance(goal, dict):
        return await _form(conn, viewer, client_id, typed, errors=goal)
    try:
        written, _ = await set_new_goal(request, conn, viewer.caller, goal)
    except GoalRuleViolation as refused:
        field = refused.field or "statement"
        return await _form(conn, viewer, client_id, typed, errors={field: refused.message})
    goal_id = written.after.detail.goal_id
    query = f"after={written.handled.appended.last_position}&done=set&goal={goal_id}"
    return Redirect(f"{client_page(client_id)}?{query}#goal-{goal_id}", status_code=303)


ROUTES = [new_goal_with_client, set_goal_with_client]
