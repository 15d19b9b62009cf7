"""Who is looking at a page: the session's person, proved on every request as the API proves
a bearer token (a revoked session, or a deactivated person, is turned away at once), and the
pages their role leads to."""

from typing import TypeAlias

import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from domain.access.policy import Caller
from services.api.audit.subject import note_caller
from services.api.auth import SESSION_COOKIE, Authenticator
from services.api.deps import Db


class NotSignedIn(Exception):
    """No live session came with the request: the page sends its reader to sign in."""


class Link(msgspec.Struct, frozen=True):
    label: str
    href: str


NAVIGATION: dict[str, tuple[Link, ...]] = {
    "client": (
        Link("My goals", "/my/goals"),
        Link("Set a goal", "/my/goals/new"),
        Link("Nudges", "/nudges"),
        Link("Notifications", "/my/notifications"),
        Link("Who has looked", "/my/access-log"),
    ),
    "admin": (
        Link("People", "/admin/users"),
        Link("Care teams", "/admin/care-teams"),
        Link("Settings", "/admin/settings"),
        Link("Webhooks", "/admin/webhooks"),
    ),
    "auditor": (Link("Audit", "/audit"), Link("Access log", "/audit/access-log")),
    "therapist": (Link("Caseload", "/caseload"),),
    "supporter": (Link("Shared with me", "/shared/goals"),),
}
"""Each role's pages, in the header's order; the first is where signing in leads."""

HOME = "/"


class Viewer(msgspec.Struct, frozen=True):
    caller: Caller
    display_name: str

    @property
    def navigation(self) -> tuple[Link, ...]:
        return NAVIGATION.get(self.caller.role, ())

    @property
    def landing(self) -> str:
        pages = self.navigation
        return pages[0].href if pages else HOME


async def provide_viewer(request: Request, conn: Db, state: State) -> Viewer:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise NotSignedIn
    authenticator: Authenticator = state.authenticator
    caller = await authenticator.authenticate(conn, secret)
    if caller is None:
        raise NotSignedIn
    request.state.actor_id = str(caller.user_id)
    note_caller(request, caller)
    name = await conn.fetchval("SELECT display_name FROM users WHERE id = $1", caller.user_id)
    return Viewer(caller, name)


SignedIn: TypeAlias = NamedDependency[Viewer]
